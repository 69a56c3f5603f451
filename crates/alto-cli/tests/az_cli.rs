//! `alto run` and `alto rehydrate` with an `az://` target on the Azure Blob emulator (Azurite,
//! installed by `scripts/test.sh`), reached the way a user reaches it: the emulator switch
//! `AZURE_STORAGE_USE_EMULATOR=true` and `AZURITE_BLOB_STORAGE_URL` in the environment.

#[path = "../../alto-tier/tests/support/azurite.rs"]
mod azurite;

use std::path::Path;
use std::process::{Command, Output};

fn alto(dir: &Path, env: &[(&str, String)], args: &[&str]) -> String {
    let o: Output = Command::new(env!("CARGO_BIN_EXE_alto"))
        .current_dir(dir)
        .env_remove("ALTO_STORE")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .output()
        .expect("run alto");
    assert!(
        o.status.success(),
        "alto {args:?}: exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn run_and_rehydrate_through_the_emulator_switch() {
    let server = azurite::Azurite::start("tier2");
    let env = server.emulator_env();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let s = ["--store", store.as_str()];
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed\n");
    let mut paths = Vec::new();
    for i in 0..3u8 {
        let p = d.join(format!("primary/clip {i}.mov"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, vec![i; 20_000]).unwrap();
        let mtime = std::fs::metadata(&p)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        csv.push_str(&format!("\"{}\",20000,{mtime},1500000000\n", p.display()));
        paths.push(p);
    }
    std::fs::write(d.join("inv.csv"), csv).unwrap();
    std::fs::write(
        d.join("rules.toml"),
        "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"az://tier2/{tenant}/\"\n",
    )
    .unwrap();
    alto(d, &env, &[&["tenant", "create", "acme"][..], &s].concat());
    let primary = d.join("primary").display().to_string();
    alto(
        d,
        &env,
        &[
            &[
                "share", "create", "m", "--tenant", "acme", "--root", &primary,
            ][..],
            &s,
        ]
        .concat(),
    );
    alto(
        d,
        &env,
        &[
            &["ingest", "--tenant", "acme", "--share", "m", "inv.csv"][..],
            &s,
        ]
        .concat(),
    );
    alto(
        d,
        &env,
        &[
            &[
                "plan",
                "--tenant",
                "acme",
                "--rules",
                "rules.toml",
                "--commit",
            ][..],
            &s,
        ]
        .concat(),
    );
    let run = alto(d, &env, &[&["run", "--once"][..], &s].concat());
    assert!(
        run.contains("1 jobs: 3 files stubbed, 0 skipped, 0 failed; 60.0 KB moved"),
        "{run}"
    );
    for p in &paths {
        let stub = std::fs::read_to_string(p).unwrap();
        assert!(stub.starts_with("#ALTO-STUB v1\n"), "{stub}");
        assert!(stub.contains("az://tier2/acme/"), "{stub}");
    }
    let back = alto(
        d,
        &env,
        &[
            &["rehydrate", "--tenant", "acme", "--glob", "*.mov"][..],
            &s,
        ]
        .concat(),
    );
    assert!(back.contains("3 files rehydrated"), "{back}");
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(std::fs::read(p).unwrap(), vec![i as u8; 20_000]);
    }
}
