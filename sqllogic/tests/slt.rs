//! Runs every sqllogic/slt/*.slt file in-process on a fresh database.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("slt dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let data = std::env::temp_dir().join(format!(
            "basalt-slt-{}-{}",
            std::process::id(),
            f.file_stem().unwrap().to_string_lossy()
        ));
        let _ = std::fs::remove_dir_all(&data);
        let db = basalt_executor::Database::open(
            &data,
            basalt_storage::StorageOptions {
                shared_buffers: 256,
                synchronous_commit: false,
            },
            vec![],
        )
        .expect("open");
        let mut s = db.session();
        match basalt_sqllogic::run_file(&mut s, &f) {
            Ok(n) => {
                println!("{}: {n} records ok", f.display());
                passed += 1;
            }
            Err(e) => {
                println!("FAILED {e}");
                failed += 1;
            }
        }
        drop(s);
        drop(db);
        let _ = std::fs::remove_dir_all(&data);
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
