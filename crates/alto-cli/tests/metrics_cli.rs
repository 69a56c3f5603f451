//! `--metrics-addr` on the long-running commands, scraped over HTTP as Prometheus would; and
//! `alto feed lucid --follow` going on through a PostgreSQL outage (every connection cut, new
//! ones refused for a while, as a server restart does), through a TCP proxy the test controls.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn alto_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alto"))
        .current_dir(dir)
        .env_remove("ALTO_STORE")
        .args(args)
        .output()
        .expect("run alto")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body of `GET /metrics`, or `None` while nothing answers.
fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}

/// The value of the sample `name` (with its labels as written) in a scrape.
fn sample(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Scrape until `check` holds, or fail after a minute with the last scrape.
fn wait_for(port: u16, child: &mut Child, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("alto exited ({status}) before {what}; last scrape:\n{last}");
        }
        if let Some(body) = scrape(port) {
            if check(&body) {
                return body;
            }
            last = body;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    panic!("no {what} within a minute; last scrape:\n{last}");
}

fn write_tree(root: &Path, n: usize) -> PathBuf {
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed\n");
    for i in 0..n {
        let p = root.join(format!("media/clip {i}.mov"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, vec![i as u8; 10_000 + i]).unwrap();
        let mtime = std::fs::metadata(&p)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        csv.push_str(&format!(
            "\"{}\",{},{mtime},1500000000\n",
            p.display(),
            10_000 + i
        ));
    }
    let inv = root.join("inventory.csv");
    std::fs::write(&inv, csv).unwrap();
    inv
}

#[test]
fn run_serves_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let s = ["--store", store.as_str()];
    let run = |args: &[&str]| alto_in(d, &[args, &s[..]].concat());
    let inv = write_tree(&d.join("primary"), 6);
    let rules = d.join("rules.toml");
    std::fs::write(
        &rules,
        format!(
            "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/tier/\"\n",
            d.display()
        ),
    )
    .unwrap();
    ok(&run(&["tenant", "create", "acme"]));
    let primary = d.join("primary").display().to_string();
    ok(&run(&[
        "share", "create", "media", "--tenant", "acme", "--root", &primary,
    ]));
    ok(&run(&[
        "ingest",
        "--tenant",
        "acme",
        "--share",
        "media",
        inv.to_str().unwrap(),
    ]));
    ok(&run(&[
        "plan",
        "--tenant",
        "acme",
        "--rules",
        rules.to_str().unwrap(),
        "--commit",
    ]));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_alto"))
        .current_dir(d)
        .env_remove("ALTO_STORE")
        .args(["run", "--poll-secs", "1", "--metrics-addr", &addr, "-q"])
        .args(s)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let body = wait_for(port, &mut child, "six stubbed files", |b| {
        sample(b, "alto_files_total{outcome=\"stubbed\"}") == Some(6.0)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let bytes: f64 = (0..6).map(|i| 10_000.0 + f64::from(i)).sum();
    assert_eq!(
        sample(&body, "alto_bytes_moved_total"),
        Some(bytes),
        "{body}"
    );
    assert_eq!(
        sample(&body, "alto_jobs_total{outcome=\"done\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "alto_files_total{outcome=\"failed\"}"),
        None,
        "nothing failed: {body}"
    );
    // A port already taken is refused with the reason, not ignored.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().to_string();
    let o = run(&["run", "--once", "--metrics-addr", &busy]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot serve metrics"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A TCP forwarder to the PostgreSQL server that can be taken down (every connection cut, new
/// ones closed at once) and brought back.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (u, c) = (up.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !u.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut list = c.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, up, conns }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    fn back(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `url` with another user (`user:password`), host and port, or database.
fn with(url: &str, user: Option<&str>, host: Option<&str>, db: Option<&str>) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (auth_host, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    let path = tail.split('?').next().unwrap_or("");
    let (auth, h) = match auth_host.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, auth_host),
    };
    let auth = user.or(auth).map_or_else(String::new, |u| format!("{u}@"));
    let path = db.map_or_else(|| path.to_owned(), |d| format!("/{d}"));
    format!("{scheme}://{auth}{}{path}{query}", host.unwrap_or(h))
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .expect("psql (PostgreSQL's client) on PATH");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn feed_follow_serves_metrics_and_outlives_a_store_restart() {
    use alto_core::feed::generate::{TreeSpec, generate_tree};
    let admin = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL is not set: run scripts/test.sh, which finds or starts a PostgreSQL server",
    );
    let name = format!("alto_metrics_{}", std::process::id());
    psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    );
    psql(&admin, &format!("CREATE DATABASE \"{name}\""));
    let owner = with(&admin, None, None, Some(&name));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        alto::migrate(&owner).await.unwrap();
        let _ = alto::login::drop(&owner, &name).await;
        alto::login::create(&owner, &name, None, Some("metrics-secret"))
            .await
            .unwrap();
    });
    let upstream = {
        let rest = admin.split_once("://").unwrap().1;
        let host = rest.split('/').next().unwrap();
        host.rsplit_once('@').map_or(host, |(_, h)| h).to_owned()
    };
    let upstream = if upstream.contains(':') {
        upstream
    } else {
        format!("{upstream}:5432")
    };
    let proxy = Proxy::start(upstream);
    let store = with(
        &owner,
        Some(&format!("{name}:metrics-secret")),
        Some(&format!("127.0.0.1:{}", proxy.port)),
        None,
    );

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = ["--store", store.as_str()];
    let run = |args: &[&str]| alto_in(d, &[args, &s[..]].concat());
    let paths: Vec<String> = (0..20).map(|i| format!("/Projects/shot_{i}.mov")).collect();
    let mut csv = String::from("file_path,file_size,last_accessed\n");
    for p in &paths {
        csv.push_str(&format!("/Volumes/fs{p},100,1500000000\n"));
    }
    std::fs::write(d.join("inv.csv"), csv).unwrap();
    let spec = TreeSpec {
        nodes: 2,
        events_per_node: 100,
        events_per_file: 30,
        start: 1_779_900_000_000_000,
        step: 1_000_000,
        paths,
        seed: 3,
    };
    generate_tree(&d.join("filespace"), &spec).unwrap();
    ok(&run(&["tenant", "create", "acme"]));
    ok(&run(&[
        "ingest",
        "--tenant",
        "acme",
        "--share",
        "fs",
        "--kind",
        "lucidlink",
        d.join("inv.csv").to_str().unwrap(),
    ]));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log = d.join("feed.log");
    let out = d.join("feed.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_alto"))
        .current_dir(d)
        .env_remove("ALTO_STORE")
        .args([
            "feed",
            "lucid",
            "--tenant",
            "acme",
            "--share",
            "fs",
            "--mount-root",
            "/Volumes/fs",
            "--follow",
            "--interval",
            "1s",
            "--metrics-addr",
            &addr,
        ])
        .arg(d.join("filespace"))
        .args(s)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let body = wait_for(port, &mut child, "applied feed events", |b| {
        sample(b, "alto_feed_events_total{outcome=\"applied\"}").is_some_and(|n| n > 0.0)
    });
    assert!(sample(&body, "alto_feed_lag_seconds").is_some(), "{body}");
    // The store goes away for a while: passes fail, the follower says so and goes on.
    proxy.down();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("feed pass failed")
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "alto exited on the outage"
        );
        assert!(Instant::now() < deadline, "no failed pass was logged");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    // Each pass that worked printed its summary line; count them now, bring the store back, and
    // wait for more.
    let passes = || {
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("read "))
            .count()
    };
    let during = passes();
    proxy.back();
    let deadline = Instant::now() + Duration::from_secs(60);
    while passes() < during + 2 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "alto exited after the outage"
        );
        assert!(
            Instant::now() < deadline,
            "no pass worked after the store came back:\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "alto is still following"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    rt.block_on(async {
        let _ = alto::login::drop(&owner, &name).await;
    });
    psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    );
    psql(&admin, &format!("DROP ROLE IF EXISTS \"{name}\""));
}
