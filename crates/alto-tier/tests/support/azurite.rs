//! Test support: an Azurite blob emulator on a free loopback port, with one container created.
//!
//! `scripts/test.sh` installs Azurite from the npm registry and exports `ALTO_AZURITE`, the path
//! of its `azurite-blob` binary; without it, `azurite-blob` must be on `PATH`, or the test fails
//! (it is never skipped). object_store cannot create containers, so [`Azurite::start`] signs one
//! `Create Container` request itself with the emulator's well-known shared key.

#![allow(dead_code, unreachable_pub)]

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The emulator's well-known account.
pub const ACCOUNT: &str = "devstoreaccount1";
/// The emulator's well-known key.
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running emulator; killed on drop.
pub struct Azurite {
    child: Child,
    /// Its blob port on 127.0.0.1.
    pub port: u16,
    _workspace: tempfile::TempDir,
}

impl Drop for Azurite {
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

impl Azurite {
    /// Start `azurite-blob` in memory on a free port and create `container`.
    pub fn start(container: &str) -> Azurite {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bin = std::env::var("ALTO_AZURITE").unwrap_or_else(|_| "azurite-blob".into());
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(&bin)
            .args([
                "--inMemoryPersistence",
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
                "--disableTelemetry",
            ])
            // In memory: nothing should be written, but keep strays out of the work tree.
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the Azure Blob emulator `{bin}` ({e}): run scripts/test.sh, \
                     which installs it and sets ALTO_AZURITE, or `npm install azurite` and put \
                     node_modules/.bin on PATH"
                )
            });
        let server = Azurite {
            child,
            port,
            _workspace: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http(port, "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Azure Blob emulator did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let created = http(port, &create_container_request(port, container)).unwrap();
        assert!(created.starts_with("HTTP/1.1 201"), "{created}");
        server
    }

    /// The settings that reach it with an explicit endpoint (no environment needed).
    pub fn options(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_STORAGE_ACCOUNT_NAME", ACCOUNT.into()),
            ("AZURE_STORAGE_ACCOUNT_KEY", KEY.into()),
            (
                "AZURE_STORAGE_ENDPOINT",
                format!("http://127.0.0.1:{}/{ACCOUNT}", self.port),
            ),
            ("AZURE_ALLOW_HTTP", "true".into()),
        ]
    }

    /// The environment of the emulator switch (`AZURE_STORAGE_USE_EMULATOR`), for a child
    /// process: object_store takes the emulator's URL from `AZURITE_BLOB_STORAGE_URL`.
    pub fn emulator_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
            (
                "AZURITE_BLOB_STORAGE_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
        ]
    }
}

/// `PUT /{account}/{container}?restype=container`, signed with the account key (Shared Key).
fn create_container_request(port: u16, container: &str) -> String {
    let date = http_date(SystemTime::now());
    let version = "2021-08-06";
    // VERB, then eleven standard headers (all empty here, Content-Length 0 is written empty),
    // the x-ms- headers in order, then the resource (path-style: the account twice).
    let to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n\
         /{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
    );
    let sig = base64(&hmac_sha256(&unbase64(KEY), to_sign.as_bytes()));
    format!(
        "PUT /{ACCOUNT}/{container}?restype=container HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         x-ms-date: {date}\r\nx-ms-version: {version}\r\n\
         Authorization: SharedKey {ACCOUNT}:{sig}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[test]
fn helpers_agree_with_known_values() {
    assert_eq!(
        http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
    assert_eq!(base64(b"any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
    assert_eq!(unbase64("YW55IGNhcm5hbCBwbGVhcw=="), b"any carnal pleas");
    // RFC 4231 test case 2.
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    assert_eq!(
        mac[..4],
        [0x5b, 0xdc, 0xc1, 0x46],
        "HMAC-SHA256 of RFC 4231 case 2"
    );
}
