use super::*;
use serde_json::json;

fn check(uri: &str, provider: Provider, bucket: Option<&str>, path: &str) {
    let l = classify(uri).unwrap_or_else(|| panic!("{uri} should be a link"));
    let got = (l.provider, l.bucket.as_deref(), l.path.as_str());
    assert_eq!(got, (provider, bucket, path), "{uri}");
}

fn is_signed(uri: &str) -> bool {
    classify(uri).is_some_and(|l| l.signed)
}

#[test]
fn bucket_schemes() {
    use Provider::*;
    check(
        "s3://remote-img-test/test_img/berries-01.jpeg",
        S3,
        Some("remote-img-test"),
        "test_img/berries-01.jpeg",
    );
    for scheme in ["gs", "gcs", "google", "GS"] {
        check(
            &format!("{scheme}://bkt/a/b.png"),
            Gcs,
            Some("bkt"),
            "a/b.png",
        );
    }
    for scheme in ["az", "azure", "azure-blob"] {
        check(
            &format!("{scheme}://container/dir/x.wav"),
            Azure,
            Some("container"),
            "dir/x.wav",
        );
    }
    check("s3://bucket", S3, Some("bucket"), "");
    check("s3://bucket/", S3, Some("bucket"), "");
    check("s3://my_bucket.v2/k", S3, Some("my_bucket.v2"), "k");
}

#[test]
fn s3_https_forms() {
    use Provider::S3;
    let key = "dir/k.jpg";
    check(
        "https://bucket.s3.amazonaws.com/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check(
        "https://bucket.s3.eu-west-1.amazonaws.com/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check(
        "https://bucket.s3-eu-west-1.amazonaws.com/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check(
        "https://my.dotted.bucket.s3.us-east-2.amazonaws.com/dir/k.jpg",
        S3,
        Some("my.dotted.bucket"),
        key,
    );
    check(
        "https://bucket.s3.dualstack.us-east-1.amazonaws.com/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check(
        "https://s3.amazonaws.com/bucket/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check(
        "https://s3.ap-south-1.amazonaws.com/bucket/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check(
        "https://s3-ap-south-1.amazonaws.com/bucket/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check(
        "http://s3.cn-north-1.amazonaws.com.cn/bucket/dir/k.jpg",
        S3,
        Some("bucket"),
        key,
    );
    check("https://s3.amazonaws.com/bucket", S3, Some("bucket"), "");
}

#[test]
fn gcs_and_azure_https_forms() {
    use Provider::*;
    check(
        "https://storage.googleapis.com/bkt/a/b.png",
        Gcs,
        Some("bkt"),
        "a/b.png",
    );
    check(
        "https://bkt.storage.googleapis.com/a/b.png",
        Gcs,
        Some("bkt"),
        "a/b.png",
    );
    check(
        "https://storage.cloud.google.com/bkt/a/b.png",
        Gcs,
        Some("bkt"),
        "a/b.png",
    );
    check(
        "https://acct.blob.core.windows.net/container/dir/x.mp4",
        Azure,
        Some("container"),
        "dir/x.mp4",
    );
    check(
        "https://acct.blob.core.chinacloudapi.cn/c/x.mp4",
        Azure,
        Some("c"),
        "x.mp4",
    );
}

#[test]
fn bucketless_cloud_hosts_are_http() {
    use Provider::Http;
    check("https://s3.amazonaws.com/", Http, None, "/");
    check("https://storage.googleapis.com/", Http, None, "/");
    check("https://acct.blob.core.windows.net/", Http, None, "/");
    check("https://ec2.amazonaws.com/x", Http, None, "/x");
}

#[test]
fn http_and_file() {
    use Provider::*;
    check(
        "https://example.com/img/a%20b.jpg?x=1#f",
        Http,
        None,
        "/img/a%20b.jpg",
    );
    check(
        "http://127.0.0.1:9000/bucket/k.jpg",
        Http,
        None,
        "/bucket/k.jpg",
    );
    check(
        "file:///data/my%20photos/a.jpg",
        File,
        None,
        "/data/my photos/a.jpg",
    );
    check("FILE:///data/a.jpg", File, None, "/data/a.jpg");
    check("/data/my photos/a.jpg", File, None, "/data/my photos/a.jpg");
    check("C:\\data\\a.jpg", File, None, "C:\\data\\a.jpg");
    check("D:/data/a.jpg", File, None, "D:/data/a.jpg");
}

#[test]
fn keys_are_decoded_uri_kept_verbatim() {
    let uri = "https://bucket.s3.amazonaws.com/dir/my%20cat%2B1.jpg?X-Amz-Signature=a%2Fb";
    let link = Link::new("image", uri).unwrap();
    assert_eq!(link.uri, uri);
    assert_eq!(link.path, "dir/my cat+1.jpg");
    let raw = "s3://bucket/my cat.jpg";
    let link = Link::new("image", raw).unwrap();
    assert_eq!((link.uri.as_str(), link.path.as_str()), (raw, "my cat.jpg"));
    check("gs://b/%D1%84.png", Provider::Gcs, Some("b"), "ф.png");
    check("s3://b/bad%FF", Provider::S3, Some("b"), "bad%FF");
}

#[test]
fn signed_urls() {
    let signed = [
        "https://b.s3.amazonaws.com/k.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc",
        "https://storage.googleapis.com/b/k.jpg?X-Goog-Algorithm=x&X-Goog-Signature=abc",
        "https://a.blob.core.windows.net/c/k.jpg?sv=2021-08-06&se=2030&sp=r&sig=abc%3D",
        "https://b.s3.amazonaws.com/k.jpg?AWSAccessKeyId=A&Expires=1&Signature=s",
        "https://cdn.example.com/k.jpg?x-amz-signature=abc",
    ];
    for uri in signed {
        assert!(is_signed(uri), "{uri} should be signed");
    }
    let unsigned = [
        "https://b.s3.amazonaws.com/k.jpg",
        "https://example.com/k.jpg?signature=only",
        "https://example.com/k.jpg#sig=frag",
        "s3://b/k.jpg",
    ];
    for uri in unsigned {
        assert!(!is_signed(uri), "{uri} should not be signed");
    }
}

#[test]
fn not_links() {
    for s in [
        "",
        "hello world",
        "image1.jpg",
        "relative/path.jpg",
        "//cdn.example.com/x.jpg",
        "ftp://host/x.jpg",
        "data:image/png;base64,AAAA",
        "mailto:someone@example.com",
        "https:no-slashes.jpg",
        " s3://b/k.jpg",
        "s3://b/k.jpg\n",
        "s3://b/k\u{1b}[31m.jpg",
        "s3://",
        "s3:///key",
        "https://exa mple.com/x",
        "see https://example.com/x",
    ] {
        assert_eq!(classify(s), None, "{s:?}");
    }
}

#[test]
fn serializes_as_spec_links_entry() {
    let link = Link::new("image", "s3://remote-img-test/test_img/berries-01.jpeg").unwrap();
    let expected = json!({"field": "image", "uri": "s3://remote-img-test/test_img/berries-01.jpeg",
        "provider": "s3", "bucket": "remote-img-test", "path": "test_img/berries-01.jpeg",
        "signed": false});
    assert_eq!(serde_json::to_value(&link).unwrap(), expected);
    let keys: Vec<String> =
        serde_json::from_str::<Map<String, Value>>(&serde_json::to_string(&link).unwrap())
            .unwrap()
            .keys()
            .cloned()
            .collect();
    assert_eq!(
        keys,
        ["field", "uri", "provider", "bucket", "path", "signed"]
    );
    let http = Link::new("url", "https://example.com/a").unwrap();
    assert_eq!(serde_json::to_value(&http).unwrap()["bucket"], Value::Null);
    assert_eq!(serde_json::to_value(&http).unwrap()["provider"], "http");
}

#[test]
fn extract_walks_nested_data_in_order() {
    let data = json!({
        "text": "a sentence, not a link",
        "image": "s3://b/one.jpg",
        "audio": {"url": "gs://b/two.wav", "lang": "en"},
        "texts": ["plain", "/help", "https://example.com/three.txt"],
        "deep": [{"x": [null, "az://c/four.png"]}],
        "count": 3,
        "local": "/data/set/five",
    });
    let links = extract(data.as_object().unwrap());
    let fields: Vec<(&str, &str)> = links
        .iter()
        .map(|l| (l.field.as_str(), l.uri.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("image", "s3://b/one.jpg"),
            ("audio.url", "gs://b/two.wav"),
            ("texts[2]", "https://example.com/three.txt"),
            ("deep[0].x[1]", "az://c/four.png"),
            ("local", "/data/set/five"),
        ]
    );
}

#[test]
fn bare_paths_need_to_look_like_files() {
    let data = json!({
        "a": "/help",
        "b": "/r/rust is great",
        "c": "/data/my photos/a.JPG",
        "d": "/usr/share",
        "e": "/",
        "f": "/one.png",
    });
    let links = extract(data.as_object().unwrap());
    let fields: Vec<&str> = links.iter().map(|l| l.field.as_str()).collect();
    assert_eq!(fields, ["c", "d", "f"]);
}

/// Bucket URLs the shortcut in [`classify`] must classify exactly as URL
/// parsing does, whether it takes them or leaves them to the parser.
fn tricky_bucket_urls() -> Vec<String> {
    let schemes = [
        "s3",
        "S3",
        "gs",
        "GCS",
        "google",
        "az",
        "Azure",
        "azure-blob",
        "AZURE-BLOB",
        "https",
        "file",
        "ftp",
        "s3x",
        "ſ3",
    ];
    let separators = ["://", ":/", ":///", "://\\"];
    let buckets = [
        "bucket",
        "Bucket",
        "BUCKET",
        "bench-bucket",
        "my_bucket.v2",
        "b-1~x",
        "b.",
        ".",
        "..",
        "",
        "a@b",
        "user:pw@b",
        "b:123",
        "b:",
        "[::1]",
        "1.2.3.4",
        "0x7f.1",
        "b%20c",
        "b%2F",
        "b c",
        "b\\c",
        "b\tc",
        "бакет",
        "xn--bcher-kva",
        "b?x",
        "b#x",
        "b..c",
        "b^c",
        "b|c",
        "b<c>",
    ];
    let keys = [
        "",
        "k",
        "dir/k.jpg",
        "images/042/item42.jpg",
        "dir//k",
        "/",
        "//",
        "/k",
        ".",
        "..",
        "a/./b",
        "a/../b",
        "a/.",
        "a/..",
        "./a",
        "../a",
        "a/../../b",
        "a./b",
        "a/b.",
        "a.",
        "...",
        ".../x",
        ".a/..b",
        "my cat.jpg",
        "my%20cat.jpg",
        "a?x=1",
        "a#frag",
        "a?X-Amz-Signature=1",
        "a?sig=1#f",
        "a\\b",
        "a\\..\\b",
        "ф.png",
        "%D1%84",
        "%2e/x",
        "%2E%2E/x",
        "a/%2e%2e/b",
        "a~b_c-d.e",
        "a\tb",
        "a\nb",
        "a\rb",
        "a<b>",
        "a\"b",
        "a{b}",
        "a`b",
        "a^b",
        "a|b",
        "a:b",
        "a@b",
        "a;b=c,d+e",
        "a%",
        "a%zz",
        "bad%FF",
        "A/B/C.JPG",
        "\u{202e}x",
        "x ",
        "x\u{7f}",
        "x\u{0}",
        "emoji😀.png",
    ];
    let mut uris = Vec::new();
    for scheme in schemes {
        for separator in separators {
            for bucket in buckets {
                uris.push(format!("{scheme}{separator}{bucket}"));
                for key in keys {
                    uris.push(format!("{scheme}{separator}{bucket}/{key}"));
                }
            }
        }
    }
    uris
}

/// Characters URL parsing treats specially, and plain ones.
const TRICKY: [&str; 26] = [
    "a", "B", "0", "-", ".", "_", "~", "/", "/", "/", "%", "2e", "%2E", "?", "#", "@", ":", "\\",
    " ", "é", "[", "]", "..", "./", "\t", "+",
];

/// Characters the shortcut accepts, with dot segments made likely.
const PLAIN: [&str; 11] = ["a", "B", "0", "-", ".", "_", "~", "/", "/", "..", "./"];

/// `count` random `scheme://rest` strings, `rest` drawn from `alphabet`.
fn random_bucket_urls(count: usize, alphabet: &[&str]) -> Vec<String> {
    const SCHEMES: [&str; 6] = ["s3", "gs", "Az", "GOOGLE", "azure-blob", "gcs"];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    (0..count)
        .map(|_| {
            let mut uri = format!("{}://", SCHEMES[next(SCHEMES.len())]);
            for _ in 0..next(24) {
                uri.push_str(alphabet[next(alphabet.len())]);
            }
            uri
        })
        .collect()
}

#[test]
fn shortcut_agrees_with_url_parsing() {
    let mut shortcuts = 0;
    for uri in tricky_bucket_urls()
        .into_iter()
        .chain(random_bucket_urls(200_000, &TRICKY))
        .chain(random_bucket_urls(200_000, &PLAIN))
    {
        let parsed = classify_parsed(&uri);
        if let Some(quick) = plain_bucket_url(&uri) {
            assert_eq!(Some(quick), parsed, "{uri:?}");
            shortcuts += 1;
        }
        assert_eq!(classify(&uri), parsed, "{uri:?}");
    }
    assert!(shortcuts > 50_000, "only {shortcuts} shortcuts taken");
}

#[test]
fn shortcut_takes_plain_bucket_urls_only() {
    let quick = |uri: &str| plain_bucket_url(uri).is_some();
    for uri in [
        "s3://bench-bucket/images/042/item42.jpg",
        "S3://Bucket/Dir/K.JPG",
        "azure-blob://c/a~b_c-d.e",
        "gs://b",
        "gs://b/",
        "gs://b//k",
    ] {
        assert!(quick(uri), "{uri}");
    }
    for uri in [
        "s3:///key",
        "s3://b/a/../k",
        "s3://b/./k",
        "s3://b/k/.",
        "s3://b/my%20cat.jpg",
        "s3://b/my cat.jpg",
        "s3://b/k?x=1",
        "s3://b/k#frag",
        "s3://b:1/k",
        "s3://a@b/k",
        "s3://b/ф.png",
        "s3://b\\k",
        "https://example.com/k.jpg",
        "/data/k.jpg",
    ] {
        assert!(!quick(uri), "{uri}");
    }
}
