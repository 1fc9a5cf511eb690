//! Sources in object stores and on the web, against a real S3-compatible
//! server on 127.0.0.1: moto's server (PyPI `moto[server]`), installed into
//! a virtual environment under the target folder on first use and started
//! by each test, which stops it when done.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{assert_clean_error, json_lines, manifest, run, stderr, taskport};
use tempfile::TempDir;

/// The moto release the tests are written against.
const MOTO: &str = "moto[server]==5.2.5";

/// The virtual environment holding moto (and boto3, which the tests use to
/// put objects), installed once for all tests.
fn moto_env() -> &'static Path {
    static ENV: OnceLock<PathBuf> = OnceLock::new();
    ENV.get_or_init(|| {
        let env = Path::new(env!("CARGO_TARGET_TMPDIR")).join("moto-venv");
        let installed = env.join("installed");
        if !installed.exists() {
            let _ = std::fs::remove_dir_all(&env);
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
            let status = Command::new(python)
                .args(["-m", "venv"])
                .arg(&env)
                .status()
                .expect("python3 -m venv (Python 3 is needed for the S3 test server)");
            assert!(status.success(), "creating the virtual environment failed");
            let status = Command::new(env.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", MOTO])
                .status()
                .expect("pip install moto");
            assert!(status.success(), "pip install {MOTO} failed");
            std::fs::write(&installed, MOTO).unwrap();
        }
        env
    })
}

/// A moto S3 server on a free port of 127.0.0.1, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let env = moto_env();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Creates `bucket` and puts each `(key, file)` into it; keys listed in
    /// `public` are readable without credentials.
    fn put(&self, bucket: &str, objects: &[(&str, &Path)], public: &[&str]) {
        let script = r#"
import sys, boto3
endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket=bucket)
public = set(sys.argv[3].split(",")) if sys.argv[3] else set()
for pair in sys.argv[4:]:
    key, path = pair.split("=", 1)
    with open(path, "rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body,
                      ACL="public-read" if key in public else "private")
"#;
        let mut command = Command::new(moto_env().join("bin/python"));
        command
            .args(["-c", script, &self.endpoint, bucket])
            .arg(public.join(","));
        for (key, file) in objects {
            command.arg(format!("{key}={}", file.display()));
        }
        let output = command.output().expect("run boto3");
        assert!(output.status.success(), "{}", stderr(&output));
    }

    /// `taskport` in `dir` with the S3 variables pointing at this server.
    fn taskport(&self, dir: &Path) -> Command {
        let mut command = taskport(dir);
        command
            .env("AWS_ENDPOINT", &self.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
        command
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a links CSV of `rows` rows into `dir`.
fn generated_links(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join("many.csv");
    let mut text = String::from("item_name,item_link\n");
    for n in 0..rows {
        text.push_str(&format!("item{n}.jpg,s3://media/images/item{n}.jpg\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn ok(output: Output) -> Output {
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

#[test]
fn a_manifest_in_a_bucket_imports_like_the_local_file() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let local = manifest("supervisely-links-two-columns.csv");
    // Large enough to arrive in many chunks.
    let many = generated_links(dir.path(), 50_000);
    moto.put(
        "manifests",
        &[("team/links.csv", &local), ("team/many.csv", &many)],
        &[],
    );

    let from_bucket = ok(run(moto
        .taskport(dir.path())
        .args(["import", "s3://manifests/team/links.csv", "--no-store"])
        .args(["--out", "-"])));
    let from_disk = ok(run(taskport(dir.path()).arg("import").arg(&local).args([
        "--no-store",
        "--out",
        "-",
    ])));
    let without_source = |output: &Output| -> Vec<serde_json::Value> {
        json_lines(output)
            .into_iter()
            .map(|mut task| {
                let source = task["origin"]
                    .as_object_mut()
                    .unwrap()
                    .remove("source")
                    .unwrap();
                assert!(source.is_string());
                task
            })
            .collect()
    };
    assert_eq!(without_source(&from_bucket).len(), 2);
    assert_eq!(without_source(&from_bucket), without_source(&from_disk));
    assert_eq!(
        json_lines(&from_bucket)[0]["origin"]["source"],
        "s3://manifests/team/links.csv"
    );

    // Into the store, under the dataset named after the object.
    ok(run(moto
        .taskport(dir.path())
        .args(["import", "s3://manifests/team/many.csv"])));
    let datasets = ok(run(taskport(dir.path()).arg("datasets")));
    let listing = String::from_utf8_lossy(&datasets.stdout);
    assert!(
        listing
            .lines()
            .any(|line| line.split_whitespace().take(2).eq(["many", "50000"])),
        "{listing}"
    );
}

#[test]
fn a_prefix_is_listed_for_the_folder_formats() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let bytes = dir.path().join("bytes");
    std::fs::write(&bytes, [0u8; 10]).unwrap();
    moto.put(
        "media",
        &[
            ("photos/b.png", &bytes),
            ("photos/a.jpg", &bytes),
            ("photos/sub/c.jpg", &bytes),
            ("photos/.cache/d.jpg", &bytes),
            ("photos/voice.wav", &bytes),
            ("other/e.jpg", &bytes),
        ],
        &[],
    );

    let detect = ok(run(moto
        .taskport(dir.path())
        .args(["detect", "s3://media/photos/"])));
    let chosen = String::from_utf8_lossy(&detect.stdout);
    assert!(chosen.contains("chosen: image-dir"), "{chosen}");

    let output = ok(run(moto.taskport(dir.path()).args([
        "import",
        "s3://media/photos/",
        "--no-store",
        "--out",
        "-",
    ])));
    let tasks = json_lines(&output);
    let names: Vec<&str> = tasks.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a.jpg", "b.png", "sub/c.jpg"]);
    assert_eq!(tasks[2]["data"]["image"], "s3://media/photos/sub/c.jpg");
    assert_eq!(tasks[2]["links"][0]["bucket"], "media");
    assert!(stderr(&output).contains("1 file(s) skipped"));

    let audio = ok(run(moto
        .taskport(dir.path())
        .args(["import", "s3://media/photos/", "--format", "audio-dir"])
        .args(["--no-store", "--out", "-"])));
    assert_eq!(
        json_lines(&audio)[0]["data"]["audio"],
        "s3://media/photos/voice.wav"
    );
}

#[test]
fn a_web_source_is_streamed_over_http() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let local = manifest("supervisely-links-two-columns.csv");
    moto.put("public", &[("links.csv", &local)], &["links.csv"]);
    let url = format!("{}/public/links.csv", moto.endpoint);
    // No credentials: a plain GET.
    let output = ok(run(taskport(dir.path()).args([
        "import",
        &url,
        "--no-store",
        "--out",
        "-",
    ])));
    let tasks = json_lines(&output);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["origin"]["source"], url.as_str());
}

#[test]
fn missing_objects_and_unreachable_endpoints_fail_in_one_line() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    moto.put("manifests", &[], &[]);

    let missing = run(moto
        .taskport(dir.path())
        .args(["import", "s3://manifests/nope.csv"]));
    assert_clean_error(&missing);
    assert!(
        stderr(&missing).contains("s3://manifests/nope.csv: no such object"),
        "{}",
        stderr(&missing)
    );
    let imports = ok(run(taskport(dir.path()).arg("imports")));
    assert!(!String::from_utf8_lossy(&imports.stdout).contains("nope"));

    // Nothing listens on the endpoint.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = run(moto
        .taskport(dir.path())
        .env("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .args(["import", "s3://manifests/links.csv"]));
    assert_clean_error(&unreachable);
    assert!(
        stderr(&unreachable).contains("cannot read s3://manifests/links.csv"),
        "{}",
        stderr(&unreachable)
    );

    let scheme = run(taskport(dir.path()).args(["import", "ftp://host/links.csv"]));
    assert_clean_error(&scheme);
    assert!(stderr(&scheme).contains("unsupported scheme \"ftp\""));
}
