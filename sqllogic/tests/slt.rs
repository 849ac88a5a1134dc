//! Runs every sqllogic/slt/*.slt file in-process on a fresh database.

fn main() {
    let files = basalt_sqllogic::slt_files();
    assert!(!files.is_empty(), "no .slt files found");
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
