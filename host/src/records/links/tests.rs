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
