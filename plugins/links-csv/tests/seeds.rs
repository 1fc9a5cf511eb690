//! The Supervisely "Links" CSV examples and edge cases.

use taskport_links_csv::LinksCsv;
use taskport_plugin_sdk::{Collector, Emit, Flow, convert_bytes};

macro_rules! manifest {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/manifests/",
            $name
        ))
    };
}

fn convert(bytes: &[u8]) -> Collector {
    convert_with(&[], bytes)
}

fn convert_with(options: &[(&str, &str)], bytes: &[u8]) -> Collector {
    let (collector, result) = convert_bytes::<LinksCsv>("links-csv", options, bytes);
    assert_eq!(result, Ok(()));
    collector
}

const BERRY_1: &str = r#"{"image":"s3://remote-img-test/test_img/berries-01.jpeg"}"#;
const BERRY_2: &str = r#"{"image":"s3://remote-img-test/test_img/berries-02.jpeg"}"#;

fn task(origin: &str, name: &str, data: &str) -> String {
    format!("{origin} | {name} | image | image | {data} | - | - | -")
}

#[test]
fn two_columns() {
    for file in [
        &manifest!("supervisely-links-two-columns.csv")[..],
        manifest!("supervisely-links-two-columns-semicolon.csv"),
    ] {
        let out = convert(file);
        assert_eq!(
            out.shown_records(),
            [
                task("line 1 @0", "image1.jpg", BERRY_1),
                task("line 2 @57", "image2.jpg", BERRY_2),
            ]
        );
        assert!(out.diagnostics.is_empty());
    }
}

#[test]
fn one_column() {
    let out = convert(manifest!("supervisely-links-one-column.csv"));
    assert_eq!(
        out.shown_records(),
        [
            task("line 1 @0", "-", BERRY_1),
            task("line 2 @46", "-", BERRY_2)
        ]
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn header_rows() {
    for file in [
        &manifest!("supervisely-links-header.csv")[..],
        manifest!("supervisely-links-header-semicolon.csv"),
    ] {
        let out = convert(file);
        assert_eq!(
            out.shown_records(),
            [
                task("line 2 @20", "image1.jpg", BERRY_1),
                task("line 3 @77", "image2.jpg", BERRY_2),
            ]
        );
        assert!(out.diagnostics.is_empty());
    }
}

#[test]
fn bom_crlf_and_blank_lines() {
    let out = convert(b"\xEF\xBB\xBF\r\nimage1.jpg,s3://b/1.png\r\n\r\n  \r\ns3://b/2.png\r\n");
    assert_eq!(
        out.shown_records(),
        [
            r#"line 2 @5 | image1.jpg | image | image | {"image":"s3://b/1.png"} | - | - | -"#,
            r#"line 5 @36 | - | image | image | {"image":"s3://b/2.png"} | - | - | -"#,
        ]
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn quoted_fields() {
    let out = convert(b"\"a, \"\"b\"\".jpg\",\"https://h/x,y.jpg\"\n");
    assert_eq!(
        out.shown_records(),
        [r#"line 1 @0 | a, "b".jpg | image | image | {"image":"https://h/x,y.jpg"} | - | - | -"#]
    );
    let out = convert(b"\"n;m\";\"s3://b/k\nl\"\n\"o\";s3://b/k2\n");
    assert_eq!(out.shown_records().len(), 1);
    assert_eq!(
        out.shown_records(),
        [r#"line 3 @19 | o | url | - | {"url":"s3://b/k2"} | - | - | -"#]
    );
    assert_eq!(out.diagnostics[0].origin.line, Some(1));
}

#[test]
fn delimiters_inside_unquoted_links() {
    let out = convert(b"https://host/a,b@@c.jpg\nimage2.jpg,https://host/d,e@@f.jpg\n");
    assert_eq!(
        out.shown_records(),
        [
            r#"line 1 @0 | - | image | image | {"image":"https://host/a,b@@c.jpg"} | - | - | -"#,
            r#"line 2 @24 | image2.jpg | image | image | {"image":"https://host/d,e@@f.jpg"} | - | - | -"#,
        ]
    );
    let out = convert(b"item_name;item_link\nx.jpg;https://host/a;b.jpg\n");
    assert_eq!(
        out.shown_records(),
        [r#"line 2 @20 | x.jpg | image | image | {"image":"https://host/a;b.jpg"} | - | - | -"#]
    );
}

#[test]
fn bad_links_are_row_errors() {
    let out = convert(b"a.jpg,s3://b/a.jpg\nb.jpg,b.jpg\nc.jpg,ftp://h/c.jpg\n\nrelative/d.jpg\n");
    assert_eq!(out.records.len(), 1);
    assert_eq!(
        out.shown_diagnostics(),
        [
            r#"line 2 @19 | error | bad-link | "b.jpg" is neither a URL nor an absolute path"#,
            r#"line 3 @31 | error | bad-link | "ftp://h/c.jpg" has unsupported scheme `ftp` (expected one of s3, gs, google, gcs, azure, az, azure-blob, http, https, file)"#,
            r#"line 5 @52 | error | bad-link | "relative/d.jpg" is neither a URL nor an absolute path"#,
        ]
    );
}

#[test]
fn header_meta_columns_and_field_counts() {
    let out = convert(b"url,split,,title\ns3://b/1.wav,train,x,One\ns3://b/2.wav,test\n");
    assert_eq!(
        out.shown_records(),
        [
            r#"line 2 @17 | One | audio | audio | {"audio":"s3://b/1.wav"} | - | - | {"split":"train"}"#
        ]
    );
    assert_eq!(
        out.shown_diagnostics(),
        ["line 3 @42 | error | field-count | row has 2 fields, the header has 4"]
    );
}

#[test]
fn local_paths_and_data_keys() {
    let out = convert_with(
        &[("key", "src")],
        b"/data/a.mp4\nC:\\data\\b.bin\nfile:///c.pdf\n",
    );
    assert_eq!(
        out.shown_records(),
        [
            r#"line 1 @0 | - | src | video | {"src":"/data/a.mp4"} | - | - | -"#,
            r#"line 2 @12 | - | src | - | {"src":"C:\\data\\b.bin"} | - | - | -"#,
            r#"line 3 @26 | - | src | pdf | {"src":"file:///c.pdf"} | - | - | -"#,
        ]
    );
    let out = convert(b"https://h/page.html\nhttps://h/x\n");
    assert_eq!(out.records[0].data, r#"{"html":"https://h/page.html"}"#);
    assert_eq!(out.records[1].data, r#"{"url":"https://h/x"}"#);
}

#[test]
fn invalid_utf8_is_a_row_error() {
    let out = convert(b"s3://b/\xff.jpg\ns3://b/ok.jpg\n");
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.diagnostics[0].code, "bad-utf8");
    assert_eq!(out.diagnostics[0].origin.line, Some(1));
}

#[test]
fn options_and_formats_are_checked() {
    let (_, result) = convert_bytes::<LinksCsv>("links-csv", &[("key", "")], b"s3://b/k");
    assert!(result.is_err());
    let (_, result) = convert_bytes::<LinksCsv>("links-json", &[], b"s3://b/k");
    assert!(result.is_err());
}

/// Stops after the first item.
struct StopAtOnce(usize);

impl Emit for StopAtOnce {
    fn record(&mut self, _: taskport_plugin_sdk::TaskRecord) -> Flow {
        self.0 += 1;
        Flow::Stop
    }

    fn diagnostic(&mut self, _: taskport_plugin_sdk::Diagnostic) -> Flow {
        self.0 += 1;
        Flow::Stop
    }
}

#[test]
fn stops_when_told() {
    use taskport_plugin_sdk::Converter;
    let mut out = StopAtOnce(0);
    let mut input = &b"s3://b/1\ns3://b/2\ns3://b/3\n"[..];
    let result = LinksCsv::convert("links-csv", &[], "t", &mut input, &mut out);
    assert_eq!((result, out.0), (Ok(()), 1));
}
