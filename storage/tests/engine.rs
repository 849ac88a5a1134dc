//! Engine-level tests: MVCC visibility, B-tree order, and recovery by redo
//! after an unclean stop (the engine is dropped without a checkpoint).

use basalt_storage::{KeyRange, Storage, StorageOptions, Tid, WriteOutcome};
use std::path::PathBuf;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("basalt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn scan_all(st: &Storage, rel: u32, snap: &basalt_storage::Snapshot) -> Vec<(Tid, Vec<u8>)> {
    let mut out = vec![];
    for blk in 0..st.nblocks(rel).unwrap() {
        st.heap_page_visible(rel, blk, snap, &mut out).unwrap();
    }
    out
}

#[test]
fn mvcc_and_recovery() {
    let dir = tmpdir("engine");
    let opts = StorageOptions {
        shared_buffers: 32,
        synchronous_commit: true,
    };
    let (heap, idx) = (20000u32, 20001u32);
    {
        let st = Storage::open(&dir, opts.clone()).unwrap();
        st.create_heap(heap).unwrap();
        st.btree_create(idx).unwrap();
        let x1 = st.begin(1);
        for i in 0..5000u32 {
            let data = format!("row-{i:05}").into_bytes();
            let tid = st.heap_insert(heap, x1, 0, &data).unwrap();
            st.btree_insert(idx, &i.to_be_bytes(), tid).unwrap();
        }
        st.commit(x1, &[], None).unwrap();
        // An uncommitted transaction's rows must not survive.
        let x2 = st.begin(1);
        st.heap_insert(heap, x2, 0, b"uncommitted").unwrap();
        // Update one row and commit.
        let x3 = st.begin(1);
        let snap = st.txns.snapshot(x3, 0);
        let rows = scan_all(&st, heap, &snap);
        assert_eq!(rows.len(), 5000);
        let (tid, _) = rows
            .iter()
            .find(|(_, d)| d == b"row-00042")
            .unwrap()
            .clone();
        match st
            .heap_update(heap, tid, &writer(x3), b"row-00042-new", false)
            .unwrap()
        {
            WriteOutcome::Ok(_) => {}
            o => panic!("{o:?}"),
        }
        st.commit(x3, &[], None).unwrap();
        // x2 still sees nothing of x3? x2's snapshot is new, so it sees x3.
        let snap2 = st.txns.snapshot(x2, 1);
        assert_eq!(scan_all(&st, heap, &snap2).len(), 5001);
        st.wal.flush(st.wal.insert_lsn()).unwrap();
        // Drop without checkpoint: like a crash after the WAL flush.
    }
    let st = Storage::open(&dir, opts).unwrap();
    let x = st.begin(1);
    let snap = st.txns.snapshot(x, 0);
    let rows = scan_all(&st, heap, &snap);
    assert_eq!(rows.len(), 5000);
    assert!(rows.iter().any(|(_, d)| d == b"row-00042-new"));
    assert!(!rows.iter().any(|(_, d)| d == b"uncommitted"));
    let mut scan = st.btree_scan(idx, KeyRange::default()).unwrap();
    let mut keys = vec![];
    loop {
        let b = st.btree_next(&mut scan).unwrap();
        if b.is_empty() {
            break;
        }
        keys.extend(
            b.into_iter()
                .map(|(k, _)| u32::from_be_bytes(k.try_into().unwrap())),
        );
    }
    assert_eq!(keys, (0..5000).collect::<Vec<_>>());
    let mut scan = st
        .btree_scan(idx, KeyRange::eq(777u32.to_be_bytes().to_vec()))
        .unwrap();
    let b = st.btree_next(&mut scan).unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(
        st.heap_fetch(heap, b[0].1, &snap).unwrap().unwrap(),
        b"row-00777"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Index entries of versions no snapshot can see are removed (and the
/// removal survives redo), while a live snapshot keeps them needed.
#[test]
fn dead_index_entries_are_removed_and_redone() {
    use basalt_storage::Fetched;
    let dir = tmpdir("btdelete");
    let opts = StorageOptions {
        shared_buffers: 32,
        synchronous_commit: true,
    };
    let (heap, idx) = (20010u32, 20011u32);
    let entries = |st: &Storage| -> Vec<Tid> {
        let mut scan = st.btree_scan(idx, KeyRange::eq(b"k".to_vec())).unwrap();
        let mut v = vec![];
        loop {
            let b = st.btree_next(&mut scan).unwrap();
            if b.is_empty() {
                return v;
            }
            v.extend(b.into_iter().map(|(_, t)| t));
        }
    };
    {
        let st = Storage::open(&dir, opts.clone()).unwrap();
        st.create_heap(heap).unwrap();
        st.btree_create(idx).unwrap();
        let x = st.begin(1);
        let mut tid = st.heap_insert(heap, x, 0, b"v0").unwrap();
        st.btree_insert(idx, b"k", tid).unwrap();
        st.commit(x, &[], None).unwrap();
        // An old snapshot that still sees v0.
        let old = st.txns.snapshot(0, 0);
        for i in 1..=5 {
            let x = st.begin(1);
            match st
                .heap_update(heap, tid, &writer(x), format!("v{i}").as_bytes(), false)
                .unwrap()
            {
                WriteOutcome::Ok(t) => tid = t,
                o => panic!("{o:?}"),
            }
            st.btree_insert(idx, b"k", tid).unwrap();
            st.commit(x, &[], None).unwrap();
        }
        let all = entries(&st);
        assert_eq!(all.len(), 6);
        let now = st.txns.snapshot(0, 0);
        // While `old` lives, v0 is not dead.
        let h = st.txns.horizon();
        assert_eq!(
            st.heap_fetch_classify(heap, all[0], &now, &mut || h, None)
                .unwrap(),
            Fetched::Invisible
        );
        drop(old);
        let h = st.txns.horizon();
        let dead: Vec<Vec<u8>> = all
            .iter()
            .filter(|t| {
                st.heap_fetch_classify(heap, **t, &now, &mut || h, None)
                    .unwrap()
                    == Fetched::Dead
            })
            .map(|t| {
                let mut k = b"k".to_vec();
                k.extend_from_slice(&t.to_bytes());
                k
            })
            .collect();
        assert_eq!(dead.len(), 5, "v0..v4 are dead, v5 is live");
        // A scan kills the dead entries of the batch it read (the live
        // one, even if named, stays).
        let mut scan = st.btree_scan(idx, KeyRange::eq(b"k".to_vec())).unwrap();
        assert_eq!(st.btree_next(&mut scan).unwrap().len(), 6);
        let x = st.begin(1);
        let t = st.heap_insert(heap, x, 0, b"w").unwrap();
        st.btree_insert(idx, b"j", t).unwrap();
        st.commit(x, &[], None).unwrap();
        let mut all_items = dead.clone();
        let mut live = b"k".to_vec();
        live.extend_from_slice(&tid.to_bytes());
        all_items.push(live);
        st.btree_kill(idx, heap, &scan, &all_items).unwrap();
        assert_eq!(entries(&st), vec![tid]);
        // A later commit flushes the WAL past the delete; then the engine is
        // dropped without a checkpoint and recovery must replay it.
        let x = st.begin(1);
        st.heap_insert(heap, x, 0, b"other").unwrap();
        st.commit(x, &[], None).unwrap();
    }
    let st = Storage::open(&dir, opts).unwrap();
    let left = entries(&st);
    assert_eq!(left.len(), 1);
    let snap = st.txns.snapshot(0, 0);
    assert_eq!(st.heap_fetch(heap, left[0], &snap).unwrap().unwrap(), b"v5");
    let _ = std::fs::remove_dir_all(&dir);
}

fn writer(x: u64) -> basalt_storage::RowWriter<'static> {
    let own: &'static [u64] = Box::leak(Box::new([x]));
    basalt_storage::RowWriter {
        xid: x,
        cid: 0,
        own,
        wait: None,
        policy: basalt_storage::WaitPolicy::Block,
    }
}

/// VACUUM prunes dead versions, removes their index entries, frees their
/// slots for reuse, keeps what an old snapshot sees, and its records redo.
#[test]
fn vacuum_reclaims_and_redoes() {
    use basalt_storage::VacuumProgress;
    let dir = tmpdir("vacuum");
    let opts = StorageOptions {
        shared_buffers: 64,
        synchronous_commit: true,
    };
    let (heap, idx) = (20020u32, 20021u32);
    let key = |i: u32| format!("k{i:04}").into_bytes();
    let all_entries = |st: &Storage| -> Vec<(Vec<u8>, Tid)> {
        let mut scan = st.btree_scan(idx, KeyRange::default()).unwrap();
        let mut v = vec![];
        loop {
            let b = st.btree_next(&mut scan).unwrap();
            if b.is_empty() {
                return v;
            }
            v.extend(b);
        }
    };
    let pages_before;
    {
        let st = Storage::open(&dir, opts.clone()).unwrap();
        st.create_heap(heap).unwrap();
        st.btree_create(idx).unwrap();
        let x = st.begin(1);
        let mut tids = vec![];
        for i in 0..500u32 {
            let t = st.heap_insert(heap, x, 0, &[7u8; 100]).unwrap();
            st.btree_insert(idx, &key(i), t).unwrap();
            tids.push(t);
        }
        st.commit(x, &[], None).unwrap();
        // Update every row three times; an old snapshot taken after the
        // first round keeps that round's versions.
        let mut old = None;
        for round in 0..3u8 {
            let x = st.begin(1);
            for (i, t) in tids.iter_mut().enumerate() {
                match st
                    .heap_update(heap, *t, &writer(x), &[round; 100], false)
                    .unwrap()
                {
                    WriteOutcome::Ok(n) => *t = n,
                    o => panic!("{o:?}"),
                }
                st.btree_insert(idx, &key(i as u32), *t).unwrap();
            }
            st.commit(x, &[], None).unwrap();
            if round == 0 {
                old = Some(st.txns.snapshot(0, 0));
            }
        }
        // An aborted insert is dead at once.
        let x = st.begin(1);
        let t = st.heap_insert(heap, x, 0, b"aborted").unwrap();
        st.btree_insert(idx, b"zz", t).unwrap();
        st.abort(&[x]).unwrap();
        pages_before = st.nblocks(heap).unwrap();
        assert_eq!(all_entries(&st).len(), 2001);
        let p = VacuumProgress::default();
        let vs = st.vacuum_rel(heap, &[idx], &p, &mut || Ok(())).unwrap();
        // `old` sees round 0's versions, so rounds 0 and 1 stay; the
        // originals and the aborted row go (some originals were pruned
        // already by updates that found their page full).
        assert_eq!(vs.live_tuples, 500);
        assert_eq!(vs.recently_dead, 1000, "rounds 0 and 1 are still needed");
        assert_eq!(vs.index_entries_removed, 501);
        assert!(vs.tuples_removed > 0 && vs.tuples_removed <= 501);
        assert_eq!(all_entries(&st).len(), 1500);
        let snap = old.as_ref().unwrap();
        let seen = scan_all(&st, heap, snap);
        assert_eq!(seen.len(), 500);
        assert!(seen.iter().all(|(_, d)| d == &[0u8; 100]));
        drop(old);
        let vs = st.vacuum_rel(heap, &[idx], &p, &mut || Ok(())).unwrap();
        assert_eq!((vs.live_tuples, vs.recently_dead), (500, 0));
        assert_eq!(vs.index_entries_removed, 1000);
        let entries = all_entries(&st);
        assert_eq!(entries.len(), 500);
        let now = st.txns.snapshot(0, 0);
        for (k, t) in &entries {
            assert_eq!(
                st.heap_fetch(heap, *t, &now).unwrap().unwrap(),
                vec![2u8; 100],
                "{k:?}"
            );
        }
        // New rows reuse the freed space instead of growing the file.
        let x = st.begin(1);
        for i in 0..1000u32 {
            let t = st.heap_insert(heap, x, 0, &[9u8; 100]).unwrap();
            st.btree_insert(idx, &key(10_000 + i), t).unwrap();
        }
        st.commit(x, &[], None).unwrap();
        assert_eq!(
            st.nblocks(heap).unwrap(),
            pages_before,
            "freed slots reused"
        );
        // Crash: no checkpoint; recovery replays prune/unused records.
    }
    let st = Storage::open(&dir, opts).unwrap();
    let snap = st.txns.snapshot(0, 0);
    let rows = scan_all(&st, heap, &snap);
    assert_eq!(rows.len(), 1500);
    assert_eq!(
        rows.iter().filter(|(_, d)| d == &vec![2u8; 100]).count(),
        500
    );
    let entries = all_entries(&st);
    assert_eq!(entries.len(), 1500);
    for (_, t) in &entries {
        assert!(st.heap_fetch(heap, *t, &snap).unwrap().is_some());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
