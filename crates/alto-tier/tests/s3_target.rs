//! The `s3://` tier target against a real S3-compatible server on loopback (moto's server, which
//! `scripts/test.sh` installs from PyPI). The test starts its own server on a free port.

use alto_tier::ObjectTarget;
mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(port: u16, request: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.write_all(request.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn start_s3() -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = std::env::var("ALTO_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start the S3 test server `{bin}` ({e}): run scripts/test.sh, which installs \
                 it, or `pip install 'moto[server]'`"
            )
        });
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http(port, "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "S3 test server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let created = http(
        port,
        "PUT /tier2 HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    assert!(
        created.starts_with("HTTP/1.0 200") || created.starts_with("HTTP/1.1 200"),
        "{created}"
    );
    server
}

#[tokio::test]
async fn s3_put_verify_get_list() {
    let server = start_s3();
    // Passed as options rather than environment variables (setting the environment is unsafe).
    let vars = [
        ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", server.port)),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    let t = ObjectTarget::open_with("s3://tier2/acme/", &vars).unwrap();
    support::checks::put_verify_get_list(&t).await;
}
