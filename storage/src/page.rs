//! Slotted 8 KiB pages: line pointers grow up from the header, item bytes grow
//! down from `special`, and `lower <= upper` always holds. Every page carries the
//! LSN of the last WAL record that changed it and a CRC-32C checksum that is
//! computed when the page is written to disk and checked when it is read.
//! An all-zero page is a valid "new" page. See storage/README.md, "Pages".

pub const PAGE_SIZE: usize = 8192;
pub const HEADER_SIZE: usize = 24;
pub const SLOT_SIZE: usize = 4;
pub const PAGE_VERSION: u16 = 1;

const OFF_LSN: usize = 0;
const OFF_CHECKSUM: usize = 8;
const OFF_KIND: usize = 12;
const OFF_LOWER: usize = 14;
const OFF_UPPER: usize = 16;
const OFF_SPECIAL: usize = 18;
const OFF_VERSION: usize = 20;
const OFF_FLAGS: usize = 22;

/// Page flag: some slot below `nslots` is unused and may take a new item.
pub const PD_HAS_FREE_LINES: u16 = 1;
/// Page flag (heap): a tuple here was deleted or updated, so pruning may
/// reclaim space once no snapshot can see it.
pub const PD_PRUNABLE: u16 = 2;
/// A slot's offset when its item was removed but index entries may still
/// point at it (a dead stub, PostgreSQL's LP_DEAD); offset 0 with length 0
/// is an unused slot that a new item may take.
const DEAD_OFF: u16 = 1;

/// What a page holds; stored in the header so integrity checks can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum PageKind {
    Heap = 1,
    BtreeMeta = 2,
    BtreeLeaf = 3,
    BtreeInternal = 4,
}

pub type PageBuf = [u8; PAGE_SIZE];

fn rd16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}
fn wr16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

/// The page checksum: CRC-32C of the page with the checksum field taken as zero,
/// mixed with the block number so a page written at the wrong place is caught.
pub fn checksum(page: &PageBuf, blkno: u32) -> u32 {
    let mut c = crc32c::crc32c(&page[..OFF_CHECKSUM]);
    c = crc32c::crc32c_append(c, &[0u8; 4]);
    c = crc32c::crc32c_append(c, &page[OFF_CHECKSUM + 4..]);
    c ^ blkno.wrapping_mul(0x9E37_79B9)
}

pub fn set_checksum(page: &mut PageBuf, blkno: u32) {
    let c = checksum(page, blkno);
    page[OFF_CHECKSUM..OFF_CHECKSUM + 4].copy_from_slice(&c.to_le_bytes());
}

/// True when the stored checksum matches, or the page is all zeros (never written).
pub fn verify_checksum(page: &PageBuf, blkno: u32) -> bool {
    let stored = u32::from_le_bytes(
        page[OFF_CHECKSUM..OFF_CHECKSUM + 4]
            .try_into()
            .expect("4 bytes"),
    );
    if stored == checksum(page, blkno) {
        return true;
    }
    page.iter().all(|&b| b == 0)
}

/// Read-only view of a slotted page.
pub struct Page<'a>(pub &'a PageBuf);
/// Mutable view of a slotted page.
pub struct PageMut<'a>(pub &'a mut PageBuf);

macro_rules! page_readers {
    () => {
        pub fn lsn(&self) -> u64 {
            u64::from_le_bytes(self.0[OFF_LSN..OFF_LSN + 8].try_into().expect("8 bytes"))
        }
        pub fn is_new(&self) -> bool {
            rd16(&self.0[..], OFF_UPPER) == 0
        }
        pub fn kind(&self) -> u16 {
            rd16(&self.0[..], OFF_KIND)
        }
        pub fn lower(&self) -> usize {
            rd16(&self.0[..], OFF_LOWER) as usize
        }
        pub fn upper(&self) -> usize {
            rd16(&self.0[..], OFF_UPPER) as usize
        }
        pub fn special(&self) -> usize {
            rd16(&self.0[..], OFF_SPECIAL) as usize
        }
        pub fn nslots(&self) -> usize {
            if self.is_new() {
                0
            } else {
                (self.lower() - HEADER_SIZE) / SLOT_SIZE
            }
        }
        /// (offset, len) of slot `i`; len 0 means the slot is unused.
        pub fn slot(&self, i: usize) -> (usize, usize) {
            let p = HEADER_SIZE + i * SLOT_SIZE;
            (
                rd16(&self.0[..], p) as usize,
                rd16(&self.0[..], p + 2) as usize,
            )
        }
        pub fn item(&self, i: usize) -> Option<&[u8]> {
            if i >= self.nslots() {
                return None;
            }
            let (off, len) = self.slot(i);
            if len == 0 {
                None
            } else {
                Some(&self.0[off..off + len])
            }
        }
        pub fn free_space(&self) -> usize {
            if self.is_new() {
                PAGE_SIZE - HEADER_SIZE
            } else {
                self.upper() - self.lower()
            }
        }
        pub fn special_area(&self) -> &[u8] {
            &self.0[self.special()..]
        }
        pub fn flags(&self) -> u16 {
            rd16(&self.0[..], OFF_FLAGS)
        }
        /// Slot `i` is a dead stub (item gone, index entries may remain).
        pub fn slot_is_dead(&self, i: usize) -> bool {
            i < self.nslots() && self.slot(i) == (DEAD_OFF as usize, 0)
        }
        /// Slot `i` is unused (free for a new item).
        pub fn slot_is_unused(&self, i: usize) -> bool {
            i < self.nslots() && self.slot(i) == (0, 0)
        }
    };
}

impl Page<'_> {
    page_readers!();
}

impl PageMut<'_> {
    page_readers!();

    pub fn init(&mut self, kind: PageKind, special_size: usize) {
        self.0.fill(0);
        let special = PAGE_SIZE - special_size;
        wr16(&mut self.0[..], OFF_KIND, kind as u16);
        wr16(&mut self.0[..], OFF_LOWER, HEADER_SIZE as u16);
        wr16(&mut self.0[..], OFF_UPPER, special as u16);
        wr16(&mut self.0[..], OFF_SPECIAL, special as u16);
        wr16(&mut self.0[..], OFF_VERSION, PAGE_VERSION);
    }
    pub fn set_flags(&mut self, f: u16) {
        wr16(&mut self.0[..], OFF_FLAGS, f)
    }
    /// Removes slot `i`'s item, leaving a dead stub (space is reclaimed by
    /// `compact`).
    pub fn set_slot_dead(&mut self, i: usize) {
        if i < self.nslots() {
            self.set_slot(i, DEAD_OFF as usize, 0);
        }
    }
    /// Makes slot `i` unused (free for a new item).
    pub fn set_slot_unused(&mut self, i: usize) {
        if i < self.nslots() {
            self.set_slot(i, 0, 0);
        }
    }
    /// Repacks the items so all free space is between `lower` and `upper`;
    /// items keep their slot numbers. Trailing unused slots are dropped, and
    /// PD_HAS_FREE_LINES tells whether any unused slot remains. Deterministic,
    /// so redo reproduces the same page.
    pub fn compact(&mut self) {
        let old = *self.0;
        let op = Page(&old);
        let mut n = op.nslots();
        while n > 0 && op.slot(n - 1) == (0, 0) {
            n -= 1;
        }
        let mut upper = op.special();
        let mut free_lines = false;
        for i in 0..n {
            let (off, len) = op.slot(i);
            if len == 0 {
                free_lines |= off == 0;
                self.set_slot(i, off, 0);
                continue;
            }
            upper -= len;
            self.0[upper..upper + len].copy_from_slice(&old[off..off + len]);
            self.set_slot(i, upper, len);
        }
        self.set_lower(HEADER_SIZE + n * SLOT_SIZE);
        self.set_upper(upper);
        let f = self.flags() & !PD_HAS_FREE_LINES;
        self.set_flags(if free_lines { f | PD_HAS_FREE_LINES } else { f });
    }
    /// Places an item in the first unused slot (if the page says it has one)
    /// or a new slot at the end; returns its slot number.
    pub fn add_item(&mut self, data: &[u8]) -> Option<usize> {
        if self.flags() & PD_HAS_FREE_LINES != 0 {
            let n = self.nslots();
            if let Some(i) = (0..n).find(|&i| self.slot(i) == (0, 0)) {
                if self.free_space() < data.len() || data.is_empty() {
                    return None;
                }
                let upper = self.upper() - data.len();
                self.0[upper..upper + data.len()].copy_from_slice(data);
                self.set_upper(upper);
                self.set_slot(i, upper, data.len());
                if !(i + 1..n).any(|j| self.slot(j) == (0, 0)) {
                    let f = self.flags() & !PD_HAS_FREE_LINES;
                    self.set_flags(f);
                }
                return Some(i);
            }
            let f = self.flags() & !PD_HAS_FREE_LINES;
            self.set_flags(f);
        }
        self.append_item(data)
    }
    pub fn set_lsn(&mut self, lsn: u64) {
        self.0[OFF_LSN..OFF_LSN + 8].copy_from_slice(&lsn.to_le_bytes());
    }
    fn set_lower(&mut self, v: usize) {
        wr16(&mut self.0[..], OFF_LOWER, v as u16)
    }
    fn set_upper(&mut self, v: usize) {
        wr16(&mut self.0[..], OFF_UPPER, v as u16)
    }
    fn set_slot(&mut self, i: usize, off: usize, len: usize) {
        let p = HEADER_SIZE + i * SLOT_SIZE;
        wr16(&mut self.0[..], p, off as u16);
        wr16(&mut self.0[..], p + 2, len as u16);
    }
    pub fn special_area_mut(&mut self) -> &mut [u8] {
        let s = self.special();
        &mut self.0[s..]
    }
    pub fn item_mut(&mut self, i: usize) -> Option<&mut [u8]> {
        if i >= self.nslots() {
            return None;
        }
        let (off, len) = self.slot(i);
        if len == 0 {
            None
        } else {
            Some(&mut self.0[off..off + len])
        }
    }
    /// Appends an item in a new slot at the end; returns its slot number.
    pub fn append_item(&mut self, data: &[u8]) -> Option<usize> {
        let n = self.nslots();
        self.insert_item_at(n, data)
    }
    /// Places an item at slot `i` exactly (used by redo): extends the slot array
    /// with unused slots as needed. Fails if `i` is already in use or it won't fit.
    pub fn put_item_at_slot(&mut self, i: usize, data: &[u8]) -> bool {
        let n = self.nslots();
        if i < n {
            if self.slot(i) != (0, 0) {
                return false;
            }
            if self.free_space() < data.len() {
                return false;
            }
            let upper = self.upper() - data.len();
            self.0[upper..upper + data.len()].copy_from_slice(data);
            self.set_upper(upper);
            self.set_slot(i, upper, data.len());
            return true;
        }
        let extra = (i + 1 - n) * SLOT_SIZE;
        if self.free_space() < extra + data.len() {
            return false;
        }
        let lower = self.lower() + extra;
        self.set_lower(lower);
        for j in n..i {
            self.set_slot(j, 0, 0);
        }
        if i > n {
            let f = self.flags() | PD_HAS_FREE_LINES;
            self.set_flags(f);
        }
        let upper = self.upper() - data.len();
        self.0[upper..upper + data.len()].copy_from_slice(data);
        self.set_upper(upper);
        self.set_slot(i, upper, data.len());
        true
    }
    /// Inserts an item so that it becomes slot `i`, shifting later slots up
    /// (B-tree pages keep slots in key order).
    pub fn insert_item_at(&mut self, i: usize, data: &[u8]) -> Option<usize> {
        let n = self.nslots();
        if i > n || self.free_space() < data.len() + SLOT_SIZE || data.is_empty() {
            return None;
        }
        let upper = self.upper() - data.len();
        self.0[upper..upper + data.len()].copy_from_slice(data);
        self.set_upper(upper);
        let start = HEADER_SIZE + i * SLOT_SIZE;
        let end = HEADER_SIZE + n * SLOT_SIZE;
        self.0.copy_within(start..end, start + SLOT_SIZE);
        self.set_lower(end + SLOT_SIZE);
        self.set_slot(i, upper, data.len());
        Some(i)
    }
    /// Rebuilds the page from a list of items (compaction after a split).
    pub fn rebuild(&mut self, kind: PageKind, special: &[u8], items: &[&[u8]]) -> bool {
        let lsn = self.lsn();
        self.init(kind, special.len());
        self.special_area_mut().copy_from_slice(special);
        self.set_lsn(lsn);
        for it in items {
            if self.append_item(it).is_none() {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_checksum() {
        let mut buf = [0u8; PAGE_SIZE];
        assert!(verify_checksum(&buf, 3));
        let mut p = PageMut(&mut buf);
        p.init(PageKind::Heap, 0);
        assert_eq!(p.append_item(b"hello"), Some(0));
        assert_eq!(p.insert_item_at(0, b"first"), Some(0));
        assert_eq!(p.item(1), Some(&b"hello"[..]));
        assert!(p.put_item_at_slot(4, b"x"));
        assert_eq!(p.nslots(), 5);
        assert_eq!(p.item(3), None);
        set_checksum(&mut buf, 3);
        assert!(verify_checksum(&buf, 3));
        assert!(!verify_checksum(&buf, 4));
        buf[100] ^= 1;
        assert!(!verify_checksum(&buf, 3));
    }

    #[test]
    fn dead_stubs_compact_and_reuse() {
        let mut buf = [0u8; PAGE_SIZE];
        let mut p = PageMut(&mut buf);
        p.init(PageKind::Heap, 0);
        for i in 0..5u8 {
            p.append_item(&[i; 100]).unwrap();
        }
        let free0 = p.free_space();
        p.set_slot_dead(1);
        p.set_slot_dead(4);
        p.compact();
        assert_eq!(p.nslots(), 5, "dead stubs keep their slots");
        assert_eq!(p.free_space(), free0 + 200);
        assert!(p.slot_is_dead(1) && p.slot_is_dead(4));
        assert_eq!(p.item(2), Some(&[2u8; 100][..]));
        assert_eq!(p.item(3), Some(&[3u8; 100][..]));
        // A dead stub is not reused; an unused slot is.
        assert_eq!(p.add_item(b"new"), Some(5));
        p.set_slot_unused(1);
        p.set_slot_unused(4);
        p.compact();
        assert!(p.flags() & PD_HAS_FREE_LINES != 0);
        assert_eq!(p.add_item(b"x"), Some(1));
        assert_eq!(p.add_item(b"y"), Some(4));
        assert!(p.flags() & PD_HAS_FREE_LINES == 0);
        assert_eq!(p.item(0), Some(&[0u8; 100][..]));
        assert_eq!(p.item(5), Some(&b"new"[..]));
        // Trailing unused slots are dropped.
        p.set_slot_unused(5);
        p.set_slot_unused(4);
        p.compact();
        assert_eq!(p.nslots(), 4);
        assert!(!p.put_item_at_slot(1, b"taken"));
    }

    #[test]
    fn fills_up() {
        let mut buf = [0u8; PAGE_SIZE];
        let mut p = PageMut(&mut buf);
        p.init(PageKind::Heap, 0);
        let item = [7u8; 100];
        let mut n = 0;
        while p.append_item(&item).is_some() {
            n += 1;
        }
        assert_eq!(n, (PAGE_SIZE - HEADER_SIZE) / 104);
        assert!(p.lower() <= p.upper());
    }
}
