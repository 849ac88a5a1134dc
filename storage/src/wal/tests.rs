use super::*;

#[test]
fn write_read_and_torn_tail() {
    let dir = std::env::temp_dir().join(format!("basalt-wal-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let wal = Wal::open(dir.clone(), 0, 0).unwrap();
    let mut ends = vec![];
    for i in 0..1000u64 {
        let r = WalRecord::HeapInsert {
            rel: 5,
            blk: i as u32,
            slot: 1,
            tuple: vec![i as u8; 100 + i as usize * 7],
        };
        ends.push(wal.insert(&r).unwrap());
    }
    wal.flush(*ends.last().unwrap()).unwrap();
    let mut rd = Wal::read_from(&dir, 0).unwrap();
    let mut n = 0;
    while let Some(r) = rd.next_record().unwrap() {
        assert_eq!(r.end, ends[n]);
        n += 1;
    }
    assert_eq!(n, 1000);
    // Corrupt one byte in the middle of record 500: reading stops there.
    let f = OpenOptions::new()
        .write(true)
        .open(seg_path(&dir, 0))
        .unwrap();
    f.write_all_at(&[0xff], ends[499] + 20).unwrap();
    let mut rd = Wal::read_from(&dir, 0).unwrap();
    let mut n = 0;
    while rd.next_record().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 500);
    drop(wal);
    // Reopening at the end of the valid log zeroes the rest.
    let wal = Wal::open(dir.clone(), ends[499], 0).unwrap();
    let e = wal
        .insert(&WalRecord::Commit {
            xid: 9,
            subxids: vec![10, 11],
            time: 1_700_000_000_000_000,
        })
        .unwrap();
    wal.flush(e).unwrap();
    let mut rd = Wal::read_from(&dir, ends[499]).unwrap();
    assert_eq!(
        rd.next_record().unwrap().unwrap().rec,
        WalRecord::Commit {
            xid: 9,
            subxids: vec![10, 11],
            time: 1_700_000_000_000_000,
        }
    );
    assert!(rd.next_record().unwrap().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
