//! Conformance against the real bill in `../shared/vectors/bill`, error cases, and round trips.

use std::io::Cursor;
use std::path::PathBuf;

use jiff::civil::datetime;
use proptest::prelude::*;

use crate::*;

const ACCOUNT: &str = "20880211096256330156";
const GBK_CSV: &str = "20880211096256330156_20190916_业务明细.gbk.csv";
const UTF8_CSV: &str = "20880211096256330156_20190916_业务明细.utf8.csv";
const ZIP: &str = "20880211096256330156_20190916.zip";

/// `../shared/vectors/bill` next to the workspace root, if present.
fn vectors() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/bill");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("{} is absent: the test was not run", dir.display());
        None
    }
}

fn read_all<R: std::io::Read>(table: &mut TableReader<R>) -> Vec<DetailRow> {
    table
        .map(|r| r.unwrap().as_detail().unwrap().clone())
        .collect()
}

fn m(fen: i64) -> Money {
    Money::from_fen(fen)
}

fn assert_sample(table: &mut TableReader<impl std::io::Read>) -> Vec<DetailRow> {
    assert_eq!(table.kind(), TableKind::Detail);
    let header = table.header();
    assert_eq!(header.title, "支付宝业务明细查询");
    assert_eq!(header.account.as_deref(), Some(ACCOUNT));
    let period = header.period.unwrap();
    assert_eq!(period.start, datetime(2019, 9, 16, 0, 0, 0, 0));
    assert_eq!(period.end, datetime(2019, 9, 17, 0, 0, 0, 0));
    assert_eq!(period.bill_date(), Some("2019-09-16".parse().unwrap()));
    assert_eq!(table.columns().len(), 25);
    assert_eq!(table.columns(), TableKind::Detail.columns());
    assert_eq!(table.extra_columns().count(), 0);

    let rows = read_all(table);
    assert_eq!(rows.len(), 10);

    let r1 = &rows[0];
    assert_eq!(r1.trade_no, "2019091622001458860515315453");
    assert_eq!(r1.out_trade_no, "service_1568601259302");
    assert_eq!(r1.business_type, BusinessType::Trade);
    assert_eq!(r1.subject, "下单测试");
    assert_eq!(r1.created_at, Some(datetime(2019, 9, 16, 10, 55, 16, 0)));
    assert_eq!(r1.finished_at, Some(datetime(2019, 9, 16, 10, 55, 23, 0)));
    assert_eq!(
        (r1.store_id.as_str(), r1.store_name.as_str()),
        ("alipay_store", "alipay_store")
    );
    assert_eq!(
        (r1.operator.as_str(), r1.terminal_id.as_str()),
        ("alipay", "")
    );
    assert_eq!(r1.counterparty, "*津水(602***@qq.com)");
    assert_eq!((r1.order_amount, r1.received), (m(1), m(1)));
    assert_eq!(r1.alipay_red_packet, m(0));
    assert_eq!(r1.coupon_name, "");
    assert_eq!(r1.merchant_red_packet, m(0));
    assert_eq!(r1.refund_request_no, "");
    assert_eq!((r1.service_fee, r1.profit_share), (m(0), m(0)));
    assert_eq!(r1.remark, "下单测试");
    assert!(r1.extra.is_empty());

    let r2 = &rows[1];
    assert_eq!(r2.trade_no, "2019091622001458860515315453");
    assert_eq!(r2.business_type, BusinessType::Refund);
    assert_eq!(r2.finished_at, Some(datetime(2019, 9, 16, 10, 56, 48, 0)));
    assert_eq!((r2.order_amount, r2.received), (m(-1), m(-1)));
    assert_eq!(r2.refund_request_no, "re_test_1568602607356");

    let r8 = &rows[7];
    assert_eq!(r8.out_trade_no, "qd_201909161455139634Sjad2vy");
    assert_eq!(r8.subject, "RPC_GENERAL接口测试");
    assert_eq!(r8.refund_request_no, "re_20190916150216125q8Lmiodp");

    let r9 = &rows[8];
    assert_eq!(r9.trade_no, "2019091622001465870515233238");
    assert_eq!(r9.out_trade_no, "20190916165659224L3VUQRL9");
    assert_eq!(r9.subject, "千丁订单INSURANCE88100011909161658423172");
    assert_eq!(r9.finished_at, Some(datetime(2019, 9, 16, 16, 58, 58, 0)));
    for empty in [
        &r9.store_id,
        &r9.store_name,
        &r9.operator,
        &r9.terminal_id,
        &r9.remark,
    ] {
        assert_eq!(empty, "");
    }
    assert_eq!(r9.counterparty, "*庚辰(182****01)");
    assert_eq!(r9.received, m(1));

    let r10 = &rows[9];
    assert_eq!(r10.trade_no, "2019091622001458860517860493");
    assert_eq!(r10.created_at, Some(datetime(2019, 9, 16, 18, 43, 6, 0)));

    let kinds: Vec<&str> = rows.iter().map(|r| r.business_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "交易", "退款", "交易", "退款", "交易", "退款", "交易", "退款", "交易", "交易"
        ]
    );

    let footer = table.footer().unwrap();
    assert_eq!(
        footer.trade,
        Some(TradeTotals {
            count: 6,
            received: m(6),
            merchant_discount: m(0)
        })
    );
    assert_eq!(
        footer.refund,
        Some(TradeTotals {
            count: 4,
            received: m(-4),
            merchant_discount: m(0)
        })
    );
    assert_eq!(
        footer.exported_at,
        Some(datetime(2019, 9, 17, 5, 46, 49, 0))
    );
    assert!(footer.other.is_empty());
    assert!(table.is_finished());
    let check = table.check();
    assert!(check.is_ok(), "{check}");
    assert_eq!(table.totals().rows, 10);
    rows
}

#[test]
fn real_gbk_csv_parses_to_its_rows() {
    let Some(dir) = vectors() else { return };
    let bytes = std::fs::read(dir.join(GBK_CSV)).unwrap();
    let mut table = TableReader::with_name(&bytes[..], GBK_CSV).unwrap();
    assert_eq!(table.encoding(), Encoding::Gbk);
    assert_sample(&mut table);
}

#[test]
fn real_utf8_csv_parses_to_the_same_rows() {
    let Some(dir) = vectors() else { return };
    let gbk = std::fs::read(dir.join(GBK_CSV)).unwrap();
    let utf8 = std::fs::read(dir.join(UTF8_CSV)).unwrap();
    let mut table = TableReader::new(&utf8[..]).unwrap();
    assert_eq!(table.encoding(), Encoding::Utf8);
    let rows = assert_sample(&mut table);
    assert_eq!(rows, read_all(&mut TableReader::new(&gbk[..]).unwrap()));
    // With a byte-order mark and CRLF line endings too.
    let crlf = String::from_utf8(utf8).unwrap().replace('\n', "\r\n");
    let bom = [&b"\xEF\xBB\xBF"[..], crlf.as_bytes()].concat();
    assert_eq!(rows, read_all(&mut TableReader::new(&bom[..]).unwrap()));
}

#[test]
fn real_zip_parses_to_the_same_rows() {
    let Some(dir) = vectors() else { return };
    let file = std::fs::File::open(dir.join(ZIP)).unwrap();
    let mut archive = BillArchive::new(file).unwrap();
    assert_eq!(archive.entries().len(), 1);
    let entry = archive.entries()[0].clone();
    assert_eq!(entry.name, "20880211096256330156_20190916_业务明细.csv");
    assert_eq!(entry.kind, Some(TableKind::Detail));
    assert_eq!(entry.size, 3307);
    let mut table = archive.open(&entry).unwrap();
    assert_eq!(table.name(), entry.name);
    assert_sample(&mut table);
    drop(table);
    assert!(archive.open_kind(TableKind::Summary).unwrap().is_none());

    let mut seen = Vec::new();
    let zip = std::fs::File::open(dir.join(ZIP)).unwrap();
    read_tables(zip, ZIP, |t| {
        seen.push((t.name().to_owned(), t.by_ref().count()));
        assert!(t.check().is_ok());
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        seen,
        [("20880211096256330156_20190916_业务明细.csv".to_owned(), 10)]
    );

    // The same ZIP as a non-seekable stream, and a ZIP of several entries written here.
    let mut seen = Vec::new();
    let zip = std::fs::read(dir.join(ZIP)).unwrap();
    read_zip_stream(&zip[..], |t| {
        seen.push((t.name().to_owned(), t.by_ref().count(), t.check().is_ok()));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        seen,
        [(
            "20880211096256330156_20190916_业务明细.csv".to_owned(),
            10,
            true
        )]
    );
    let csv_bytes = std::fs::read(dir.join(GBK_CSV)).unwrap();
    let mut two = ZipWriter::new(Cursor::new(Vec::new()));
    for name in ["a_业务明细.csv", "readme.txt", "b_业务明细.csv"] {
        let mut entry = two
            .start_entry(name, datetime(2019, 9, 17, 5, 46, 49, 0))
            .unwrap();
        std::io::Write::write_all(&mut entry, &csv_bytes).unwrap();
        entry.finish().unwrap();
    }
    let two = two.finish().unwrap().into_inner();
    let mut names = Vec::new();
    read_zip_stream(&two[..], |t| {
        // Read only the first row: the rest of the entry is skipped.
        t.read_row()?;
        names.push(t.name().to_owned());
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(names, ["a_业务明细.csv", "b_业务明细.csv"]);
    let err =
        read_zip_stream(&two[..100], |t| t.by_ref().try_for_each(|r| r.map(drop))).unwrap_err();
    assert!(err.is_zip() || err.is_io() || err.is_truncated(), "{err}");

    let csv = std::fs::File::open(dir.join(GBK_CSV)).unwrap();
    let mut seen = 0;
    read_tables(csv, GBK_CSV, |t| {
        seen += t.by_ref().count();
        assert_eq!(t.name(), GBK_CSV);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(seen, 10);
}

/// Reads a table and writes it back with the same header, rows and footer.
fn rewrite(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
    let mut table = TableReader::new(bytes).unwrap();
    let header = table.header().clone();
    let kind = table.kind();
    let rows: Vec<Row> = table.by_ref().map(Result::unwrap).collect();
    let options = WriteOptions::default().encoding(encoding);
    let mut w = TableWriter::with_options(Vec::new(), kind, &header, options).unwrap();
    for row in &rows {
        w.write_row(row).unwrap();
    }
    w.finish(table.footer().unwrap()).unwrap()
}

#[test]
fn writer_reproduces_the_real_file_byte_for_byte() {
    let Some(dir) = vectors() else { return };
    let gbk = std::fs::read(dir.join(GBK_CSV)).unwrap();
    let written = rewrite(&gbk, Encoding::Gbk);
    let ours = String::from_utf8_lossy(&written);
    for (i, (a, b)) in ours
        .split('\n')
        .zip(String::from_utf8_lossy(&gbk).split('\n'))
        .enumerate()
    {
        assert_eq!(a, b, "line {}", i + 1);
    }
    assert_eq!(written, gbk);
    let utf8 = std::fs::read(dir.join(UTF8_CSV)).unwrap();
    assert_eq!(rewrite(&utf8, Encoding::Utf8), utf8);
}

#[test]
fn computed_footer_matches_the_real_footer() {
    let Some(dir) = vectors() else { return };
    let gbk = std::fs::read(dir.join(GBK_CSV)).unwrap();
    let mut table = TableReader::new(&gbk[..]).unwrap();
    let rows = read_all(&mut table);
    let footer = table.footer().unwrap();
    let mut out = Cursor::new(Vec::new());
    out = write_trade_zip(
        out,
        ACCOUNT,
        "2019-09-16".parse().unwrap(),
        &rows,
        footer.exported_at.unwrap(),
    )
    .unwrap();
    let mut archive = BillArchive::new(Cursor::new(out.into_inner())).unwrap();
    let entry = archive.entries()[0].clone();
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut archive.entry_reader(&entry).unwrap(), &mut data).unwrap();
    assert_eq!(data, gbk);
}

/// Little-endian u16/u32 at `at`.
fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[test]
fn zip_writer_matches_the_sample_structure() {
    let Some(dir) = vectors() else { return };
    let sample = std::fs::read(dir.join(ZIP)).unwrap();
    let gbk = std::fs::read(dir.join(GBK_CSV)).unwrap();
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut entry = zip
        .start_entry(
            "20880211096256330156_20190916_业务明细.csv",
            datetime(2019, 9, 17, 5, 46, 48, 0),
        )
        .unwrap();
    std::io::Write::write_all(&mut entry, &gbk).unwrap();
    entry.finish().unwrap();
    let ours = zip.finish().unwrap().into_inner();

    // Local header: signature, versions, flags (no UTF-8 bit), method, DOS time, CRC, size, name.
    assert_eq!(ours[..14], sample[..14]);
    assert_eq!(le32(&ours, 14), le32(&sample, 14), "CRC-32");
    assert_eq!(le32(&ours, 22), 3307);
    assert_eq!(ours[26..30], sample[26..30], "name and extra lengths");
    assert_eq!(ours[30..72], sample[30..72], "GBK entry name");
    assert_eq!(le16(&ours, 6) & 0x0800, 0, "no UTF-8 flag");

    // Central directory: everything but the compressed size and the offsets agrees.
    let cd = |b: &[u8]| le32(b, b.len() - 6) as usize;
    let (o, s) = (cd(&ours), cd(&sample));
    let (eo, es) = (ours.len() - 22, sample.len() - 22);
    assert_eq!(ours[o..o + 20], sample[s..s + 20]);
    assert_eq!(ours[o + 24..eo], sample[s + 24..es]);
    // End of central directory: same counts and directory size.
    assert_eq!(ours[eo..eo + 16], sample[es..es + 16]);

    // And the zip crate reads it back.
    let mut archive = BillArchive::new(Cursor::new(ours)).unwrap();
    let entry = archive.entries()[0].clone();
    assert_eq!(entry.name, "20880211096256330156_20190916_业务明细.csv");
    assert_sample(&mut archive.open(&entry).unwrap());
}

fn sample_text() -> String {
    let mut s = String::new();
    s.push_str("#支付宝业务明细查询\n#账号：[2088]\n");
    s.push_str(&TableKind::Detail.begin_marker());
    s.push('\n');
    s.push_str(&TableKind::Detail.columns().join(","));
    s.push('\n');
    s.push_str("1\t,o1\t,交易\t,名,2019-09-16 10:55:16,2019-09-16 10:55:23,s\t,s\t,op\t,\t,*x\t,0.01,0.01,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,0.00,0.00,\n");
    s.push_str(&TableKind::Detail.end_marker());
    s.push_str("\n#交易合计：1笔，商家实收共0.01元，商家优惠共0.00元\n#退款合计：0笔，商家实收退款共0.00元，商家优惠退款共0.00元\n#导出时间：[2019年09月17日 05:46:49]\n");
    s
}

fn first_error(text: &str) -> Error {
    first_error_bytes(text.as_bytes())
}

fn first_error_bytes(bytes: &[u8]) -> Error {
    let mut table = match TableReader::with_name(bytes, "t.csv") {
        Ok(t) => t,
        Err(e) => return e,
    };
    loop {
        match table.read_row() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error in {}", String::from_utf8_lossy(bytes)),
            Err(e) => return e,
        }
    }
}

#[test]
fn synthetic_sample_reads_and_checks() {
    let text = sample_text();
    let mut table = TableReader::new(text.as_bytes()).unwrap();
    assert_eq!(table.by_ref().count(), 1);
    assert!(table.check().is_ok(), "{}", table.check());
}

#[test]
fn errors_name_entry_line_column_and_expectation() {
    let text = sample_text().replace(",0.01,0.01,", ",0.01,abc,");
    let err = first_error(&text);
    assert!(err.is_value());
    assert_eq!(err.line(), Some(5));
    assert_eq!(err.column(), Some((13, "商家实收（元）")));
    assert_eq!(
        err.to_string(),
        "t.csv:5: column 13 (商家实收（元）): expected an amount like 0.01, found \"abc\""
    );

    let err = first_error(&sample_text().replace("2019-09-16 10:55:23", "yesterday"));
    assert_eq!(err.column(), Some((6, "完成时间")));
    assert!(
        err.to_string()
            .contains("expected a time like 2019-09-16 10:55:16"),
        "{err}"
    );

    let err = first_error(&sample_text().replace(",op\t,", ",op\t,extra,"));
    assert!(err.is_format());
    assert_eq!(
        err.to_string(),
        "t.csv:5: expected 25 cells as in the header row, found \"26 cells\""
    );

    let cut = sample_text();
    let cut = &cut[..cut
        .find("#---------------------------------------")
        .map(|_| cut.rfind("#----").unwrap())
        .unwrap()];
    let err = first_error(cut);
    assert!(err.is_truncated());
    assert_eq!(
        err.to_string(),
        "t.csv:6: the file ends early: expected a data row or the end marker"
    );

    let err = first_error(&sample_text().replace("#账号：[2088]\n", "stray\n"));
    assert!(err.is_format());
    assert_eq!(err.line(), Some(2));

    let err = first_error(&sample_text().replace("商家实收（元）", "实收"));
    assert!(err.is_format());
    assert_eq!(err.line(), Some(4));
    assert!(
        err.to_string()
            .contains("a header row with the column 商家实收（元）"),
        "{err}"
    );

    let err = first_error(&sample_text().replace("商家优惠共0.00元\n", "商家优惠共x元\n"));
    assert!(err.is_format());
    assert_eq!(err.line(), Some(7));

    let err = first_error(&sample_text().replace("#导出时间", "not a comment"));
    assert!(err.is_format());
    assert_eq!(err.line(), Some(9));

    let err = first_error(&sample_text().replace("业务明细列表---", "未知列表---"));
    assert!(err.is_format());

    let err = first_error("");
    assert!(err.is_truncated());

    let bad_gbk = [&b"#\xff\xff\n"[..], sample_text().as_bytes()].concat();
    let err = TableReader::with_name(&bad_gbk[..], "t.csv").unwrap_err();
    assert!(err.is_encoding());
    assert_eq!(
        err.to_string(),
        "t.csv:1: invalid GBK bytes at byte 2 of the line"
    );
    let mut bad_row = sample_text().into_bytes();
    let at = bad_row.windows(3).position(|w| w == b"op\t").unwrap();
    // 0x81 0x7F: a GBK lead byte with an invalid trail byte.
    bad_row[at] = 0x81;
    bad_row[at + 1] = 0x7F;
    let err = first_error_bytes(&bad_row);
    assert!(err.is_encoding());
    assert_eq!(err.line(), Some(5));
}

#[test]
fn not_a_zip_is_a_zip_error() {
    let err = BillArchive::new(Cursor::new(b"PK\x03\x04garbage".to_vec())).unwrap_err();
    assert!(err.is_zip());
    let err = read_tables(Cursor::new(b"PK\x03\x04garbage".to_vec()), "x.zip", |_| {
        Ok::<_, Error>(())
    })
    .unwrap_err();
    assert!(err.is_zip());
}

#[test]
fn every_prefix_and_mutation_of_the_sample_is_handled() {
    let Some(dir) = vectors() else { return };
    for file in [GBK_CSV, ZIP] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let complete = bytes.len();
        // A CSV cut after the 结束 of the end marker reads (its check then reports the missing
        // footer lines); cut before it fails.
        let (marker, _, _) = encoding_rs::GBK.encode("业务明细列表结束");
        let end_marker = bytes.windows(marker.len()).position(|w| w == &marker[..]);
        let end_marker = end_marker.map_or(complete, |at| at + marker.len());
        for cut in 0..complete {
            let outcome = read_any(&bytes[..cut]);
            if cut < end_marker {
                assert!(outcome.is_err(), "{file} cut at {cut} read fine");
            }
        }
        for at in (0..complete).step_by(7) {
            for byte in [0u8, b',', b'"', b'\n', b'#', 0xFF] {
                let mut mutated = bytes.clone();
                mutated[at] = byte;
                let _ = read_any(&mutated);
            }
        }
    }
}

/// Reads every table and checks it; never panics.
fn read_any(bytes: &[u8]) -> Result<usize, Error> {
    let mut rows = 0;
    read_tables(Cursor::new(bytes), "fuzz", |t| {
        for row in t.by_ref() {
            row?;
            rows += 1;
        }
        let _ = t.check().to_string();
        Ok::<_, Error>(())
    })?;
    Ok(rows)
}

#[cfg(feature = "serde")]
#[test]
fn jsonl_of_the_real_bill() {
    let Some(dir) = vectors() else { return };
    let bytes = std::fs::read(dir.join(GBK_CSV)).unwrap();
    let mut table = TableReader::with_name(&bytes[..], GBK_CSV).unwrap();
    let mut out = Vec::new();
    assert!(json::write_table(&mut table, &mut out).unwrap().is_ok());
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 11);
    assert_eq!(
        text.lines().nth(1).unwrap(),
        r#"{"table":"detail","trade_no":"2019091622001458860515315453","out_trade_no":"service_1568601259302","business_type":"退款","subject":"下单测试","created_at":"2019-09-16 10:55:16","finished_at":"2019-09-16 10:56:48","store_id":"alipay_store","store_name":"alipay_store","operator":"alipay","terminal_id":"","counterparty":"*津水(602***@qq.com)","order_amount":"-0.01","received":"-0.01","alipay_red_packet":"0.00","jifenbao":"0.00","alipay_discount":"0.00","merchant_discount":"0.00","coupon_amount":"0.00","coupon_name":"","merchant_red_packet":"0.00","card_amount":"0.00","refund_request_no":"re_test_1568602607356","service_fee":"0.00","profit_share":"0.00","remark":"下单测试","extra":{}}"#
    );
    assert_eq!(
        lines[10],
        serde_json::json!({
            "table": "footer",
            "entry": GBK_CSV,
            "kind": "detail",
            "header": {
                "title": "支付宝业务明细查询",
                "account": ACCOUNT,
                "period": {"start": "2019-09-16 00:00:00", "end": "2019-09-17 00:00:00"},
                "other": []
            },
            "trade": {"count": 6, "received": "0.06", "merchant_discount": "0.00"},
            "refund": {"count": 4, "received": "-0.04", "merchant_discount": "0.00"},
            "expense": null,
            "income": null,
            "exported_at": "2019-09-17 05:46:49",
            "other": [],
            "check": {"differences": []}
        })
    );
}

#[test]
fn check_reports_a_tampered_footer() {
    let text = sample_text().replace(
        "#交易合计：1笔，商家实收共0.01元",
        "#交易合计：2笔，商家实收共0.03元",
    );
    let mut table = TableReader::new(text.as_bytes()).unwrap();
    assert!(!table.check().is_ok());
    assert_eq!(table.check().differences(), [Difference::NotFinished]);
    let _ = table.skip_to_end().unwrap();
    assert_eq!(
        table.check().differences(),
        [
            Difference::Mismatch {
                total: "交易合计",
                figure: "笔数",
                footer: Figure::Count(2),
                rows: Figure::Count(1)
            },
            Difference::Mismatch {
                total: "交易合计",
                figure: "商家实收",
                footer: Figure::Amount(m(3)),
                rows: Figure::Amount(m(1))
            },
        ]
    );
}

#[test]
fn account_flow_reads_checks_and_round_trips() {
    // The layout of a real 2012 account-flow bill (PROTOCOL §8), amounts changed.
    let text = "#支付宝账务明细查询\n#账号：[20888011365400330156]\n#起始日期：[2012年12月29日 00:00:00]   终止日期：[2012年12月30日 00:00:00]\n#-----------------------------------------账务明细列表----------------------------------------\n账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\n54632446537371\t,2012122923922029\t,3226563\t,海航机票\t,2012-12-29 21:02:06,陈晶 (kuangzhe@126.com)\t,2274.00,0.00,14533.03,支付宝,在线支付,\n54629090595411\t,2012122948927762\t,3226533\t,服务费\t,2012-12-29 20:31:32,支付宝\t,0.00,-3.93,12259.03,支付宝,收费,\n#----------------------------------------账务明细列表结束-------------------------------------\n#支出合计：1笔，共-3.93元\n#收入合计：1笔，共2274.00元\n#导出时间：[2012年12月31日 13:19:01]\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let mut table = TableReader::new(&gbk[..]).unwrap();
    assert_eq!(table.kind(), TableKind::Account);
    let rows: Vec<AccountRow> = table
        .by_ref()
        .map(|r| r.unwrap().as_account().unwrap().clone())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].flow_no, "54632446537371");
    assert_eq!(rows[0].counterparty, "陈晶 (kuangzhe@126.com)");
    assert_eq!(
        (rows[0].income, rows[0].balance),
        (m(227_400), m(1_453_303))
    );
    assert_eq!(rows[1].expense, m(-393));
    assert_eq!(rows[1].business_type, "收费");
    assert_eq!(
        table.footer().unwrap().income,
        Some(FlowTotals {
            count: 1,
            amount: m(227_400)
        })
    );
    assert!(table.check().is_ok(), "{}", table.check());
    assert_eq!(rewrite(&gbk, Encoding::Gbk), gbk.into_owned());
}

#[test]
fn summary_reads_checks_and_round_trips() {
    let text = "#支付宝业务汇总查询\n#账号：[20880211096256330156]\n#起始日期：[2019年09月01日 00:00:00]   终止日期：[2019年10月01日 00:00:00]\n#-----------------------------------------业务汇总列表----------------------------------------\n门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）,新字段\nalipay_store\t,alipay_store\t,5,3,0.02,0.02,0.00,0.00,0.00,0.00,0.00,0.02,x\t\n\t,\t,1,1,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,y\t\n合计\t,\t,6,4,0.02,0.02,0.00,0.00,0.00,0.00,0.00,0.02,\t\n#----------------------------------------业务汇总列表结束-------------------------------------\n#导出时间：[2019年10月02日 05:46:49]\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let mut table = TableReader::new(&gbk[..]).unwrap();
    assert_eq!(table.kind(), TableKind::Summary);
    assert_eq!(
        table.header().period.unwrap().bill_date(),
        Some("2019-09".parse().unwrap())
    );
    assert_eq!(table.extra_columns().collect::<Vec<_>>(), ["新字段"]);
    let rows: Vec<SummaryRow> = table
        .by_ref()
        .map(|r| r.unwrap().as_summary().unwrap().clone())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[0].trade_count, rows[0].refund_count, rows[0].received),
        (5, 3, m(2))
    );
    assert_eq!(rows[0].extra, [("新字段".to_owned(), "x".to_owned())]);
    assert!(rows[2].is_total());
    assert!(table.check().is_ok(), "{}", table.check());

    let mut table = TableReader::new(&gbk[..]).unwrap();
    let header = table.header().clone();
    let options = WriteOptions::default().extra_columns(["新字段"]);
    let mut w =
        TableWriter::with_options(Vec::new(), TableKind::Summary, &header, options).unwrap();
    for row in table.by_ref() {
        w.write_row(&row.unwrap()).unwrap();
    }
    let out = w.finish(table.footer().unwrap()).unwrap();
    assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&gbk));
    assert_eq!(out, gbk.into_owned());

    let tampered = text.replace("合计\t,\t,6,4,", "合计\t,\t,7,4,");
    let mut table = TableReader::new(tampered.as_bytes()).unwrap();
    let _ = table.skip_to_end().unwrap();
    assert_eq!(
        table.check().to_string(),
        "合计 交易订单总笔数: the footer says 7, the rows add up to 6"
    );
}

#[test]
fn columns_match_by_name_in_any_order() {
    let text = sample_text();
    let mut lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[3].split(',').rev().collect();
    let row: Vec<&str> = lines[4].split(',').rev().collect();
    let (header, row) = (header.join(","), row.join(","));
    lines[3] = &header;
    lines[4] = &row;
    let reversed = lines.join("\n");
    let a = read_all(&mut TableReader::new(text.as_bytes()).unwrap());
    let b = read_all(&mut TableReader::new(reversed.as_bytes()).unwrap());
    assert_eq!(a, b);
    assert_eq!(a[0].out_trade_no, "o1");
}

fn text() -> impl Strategy<Value = String> {
    // Chinese names, commas, quotes, spaces, '#', line breaks, empty cells.
    prop_oneof![
        Just(String::new()),
        "[a-z0-9]{1,12}",
        "[\u{4e00}-\u{9fa5}a-z ,\"#\n（）*@]{0,16}",
    ]
}

fn money() -> impl Strategy<Value = Money> {
    (-10_000_000_i64..10_000_000).prop_map(Money::from_fen)
}

fn time() -> impl Strategy<Value = Option<jiff::civil::DateTime>> {
    proptest::option::of(
        (2000i16..2030, 1i8..=12, 1i8..=28, 0i8..24, 0i8..60, 0i8..60)
            .prop_map(|(y, mo, d, h, mi, s)| datetime(y, mo, d, h, mi, s, 0)),
    )
}

prop_compose! {
    fn detail_row()(
        ids in (text(), text(), text(), text(), text(), text()),
        names in (text(), text(), text(), text(), text()),
        refund in any::<bool>(),
        times in (time(), time()),
        amounts in proptest::collection::vec(money(), 13),
    ) -> DetailRow {
        let sign = |m: Money| if refund { -Money::from_fen(m.fen().abs()) } else { Money::from_fen(m.fen().abs()) };
        DetailRow {
            trade_no: ids.0,
            out_trade_no: ids.1,
            business_type: if refund { BusinessType::Refund } else { BusinessType::Trade },
            subject: names.0,
            created_at: times.0,
            finished_at: times.1,
            store_id: ids.2,
            store_name: names.1,
            operator: ids.3,
            terminal_id: ids.4,
            counterparty: names.2,
            order_amount: sign(amounts[0]),
            received: sign(amounts[1]),
            alipay_red_packet: amounts[2],
            jifenbao: amounts[3],
            alipay_discount: amounts[4],
            merchant_discount: amounts[5],
            coupon_amount: amounts[6],
            coupon_name: names.3,
            merchant_red_packet: amounts[7],
            card_amount: amounts[8],
            refund_request_no: if refund { ids.5 } else { String::new() },
            service_fee: amounts[9],
            profit_share: amounts[10],
            remark: names.4,
            extra: Vec::new(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn writer_then_reader_round_trips(
        rows in proptest::collection::vec(detail_row(), 0..20),
        monthly in any::<bool>(),
        utf8 in any::<bool>(),
        with_total in any::<bool>(),
    ) {
        // A store numbered 合计 cannot be written (it would read back as the total row).
        prop_assume!(rows.iter().all(|r| r.store_id != "合计"));
        let date = if monthly { "2019-09".parse::<BillDate>().unwrap() } else { "2019-09-16".parse().unwrap() };
        let exported = datetime(2019, 10, 1, 5, 46, 49, 0);
        let options = TradeZipOptions::default().summary_total(with_total);
        let zip = write_trade_zip_with(Cursor::new(Vec::new()), ACCOUNT, date, &rows, exported, options).unwrap();
        let mut archive = BillArchive::new(Cursor::new(zip.into_inner())).unwrap();
        let kinds: Vec<Option<TableKind>> = archive.entries().iter().map(|e| e.kind).collect();
        prop_assert_eq!(kinds, [Some(TableKind::Detail), Some(TableKind::Summary)]);
        let mut table = archive.open_kind(TableKind::Detail).unwrap().unwrap();
        prop_assert_eq!(table.header().period.and_then(|p| p.bill_date()), Some(date));
        let back = read_all(&mut table);
        prop_assert_eq!(&back, &rows);
        let footer = table.footer().unwrap().clone();
        prop_assert_eq!(footer.exported_at, Some(exported));
        let trades = rows.iter().filter(|r| r.business_type == BusinessType::Trade).count() as u64;
        prop_assert_eq!(footer.trade.unwrap().count, trades);
        prop_assert!(table.check().is_ok());
        drop(table);

        // The summary entry reads back as the rows derived from the detail rows, and checks.
        let mut summary = archive.open_kind(TableKind::Summary).unwrap().unwrap();
        prop_assert_eq!(summary.header().title.as_str(), "支付宝业务汇总查询");
        prop_assert_eq!(summary.header().period.and_then(|p| p.bill_date()), Some(date));
        let back: Vec<SummaryRow> = summary
            .by_ref()
            .map(|r| r.unwrap().as_summary().unwrap().clone())
            .collect();
        let derived = Summary::from_details(&rows);
        prop_assert_eq!(&back, &derived.rows(with_total));
        prop_assert!(summary.check().is_ok(), "{}", summary.check());
        prop_assert_eq!(summary.footer().unwrap().exported_at, Some(exported));
        // Independent sums: the counts and amounts of the detail rows, per store and in total.
        let total = derived.total();
        prop_assert_eq!(total.trade_count, trades);
        prop_assert_eq!(total.refund_count, rows.len() as u64 - trades);
        prop_assert_eq!(total.received, footer.trade.unwrap().received + footer.refund.unwrap().received);
        let sum = |f: fn(&DetailRow) -> Money| rows.iter().map(f).sum::<Money>();
        prop_assert_eq!(total.order_amount, sum(|r| r.order_amount));
        prop_assert_eq!(total.service_fee, sum(|r| r.service_fee));
        prop_assert_eq!(total.net_received, sum(|r| r.received) - sum(|r| r.service_fee));
        for store in derived.stores() {
            let mine: Vec<&DetailRow> = rows
                .iter()
                .filter(|r| r.store_id == store.store_id && r.store_name == store.store_name)
                .collect();
            prop_assert_eq!(store.trade_count + store.refund_count, mine.len() as u64);
            prop_assert_eq!(store.received, mine.iter().map(|r| r.received).sum::<Money>());
            prop_assert_eq!(store.profit_share, mine.iter().map(|r| r.profit_share).sum::<Money>());
        }
        prop_assert_eq!(
            derived.stores().map(|s| s.trade_count + s.refund_count).sum::<u64>(),
            rows.len() as u64
        );
        drop(summary);

        // The same rows through a UTF-8 table with an extra column.
        let encoding = if utf8 { Encoding::Utf8 } else { Encoding::Gbk };
        let header = BillHeader::new(TableKind::Detail, ACCOUNT, date).unwrap();
        let options = WriteOptions::default().encoding(encoding).extra_columns(["新列"]);
        let mut w = TableWriter::with_options(Vec::new(), TableKind::Detail, &header, options).unwrap();
        let mut with_extra = rows;
        for (i, row) in with_extra.iter_mut().enumerate() {
            row.extra = vec![("新列".to_owned(), format!("值,{i}"))];
            w.write_detail(row).unwrap();
        }
        let bytes = w.finish_with_totals(None).unwrap();
        let mut table = TableReader::new(&bytes[..]).unwrap();
        prop_assert_eq!(read_all(&mut table), with_extra);
        prop_assert!(table.check().is_ok());
    }

    #[test]
    fn reader_never_panics_on_noise(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_any(&bytes);
        let mut with_header = sample_text().into_bytes();
        with_header.truncate(with_header.len() / 2);
        with_header.extend_from_slice(&bytes);
        let _ = read_any(&with_header);
    }
}

/// Detail rows for the summary tests: two stores (one without id or name), a refund, a fee.
fn summary_sample() -> Vec<DetailRow> {
    let row = |store: &str, name: &str, refund: bool, amount: i64, fee: i64| DetailRow {
        store_id: store.into(),
        store_name: name.into(),
        business_type: if refund {
            BusinessType::Refund
        } else {
            BusinessType::Trade
        },
        order_amount: m(amount),
        received: m(amount),
        service_fee: m(fee),
        ..DetailRow::default()
    };
    vec![
        row("S1", "一号店", false, 1000, 6),
        row("", "", false, 1, 0),
        row("S1", "一号店", true, -250, -1),
    ]
}

#[test]
fn summary_member_has_the_exact_gbk_bytes() {
    // Every byte below is written out by hand: ASCII as text, Chinese as its GBK code.
    const TITLE: &[u8] =
        b"\xd6\xa7\xb8\xb6\xb1\xa6\xd2\xb5\xce\xf1\xbb\xe3\xd7\xdc\xb2\xe9\xd1\xaf"; // 支付宝业务汇总查询
    const ACCOUNT_LABEL: &[u8] = b"\xd5\xcb\xba\xc5\xa3\xba"; // 账号：
    const START: &[u8] = b"\xc6\xf0\xca\xbc\xc8\xd5\xc6\xda\xa3\xba"; // 起始日期：
    const END: &[u8] = b"\xd6\xd5\xd6\xb9\xc8\xd5\xc6\xda\xa3\xba"; // 终止日期：
    const YEAR: &[u8] = b"\xc4\xea"; // 年
    const MONTH: &[u8] = b"\xd4\xc2"; // 月
    const DAY: &[u8] = b"\xc8\xd5"; // 日
    const LIST: &[u8] = b"\xd2\xb5\xce\xf1\xbb\xe3\xd7\xdc\xc1\xd0\xb1\xed"; // 业务汇总列表
    const ENDS: &[u8] = b"\xbd\xe1\xca\xf8"; // 结束
    const YUAN: &[u8] = b"\xa3\xa8\xd4\xaa\xa3\xa9"; // （元）
    const STORE_NAME: &[u8] = b"\xd2\xbb\xba\xc5\xb5\xea"; // 一号店
    const TOTAL: &[u8] = b"\xba\xcf\xbc\xc6"; // 合计
    const EXPORTED: &[u8] = b"\xb5\xbc\xb3\xf6\xca\xb1\xbc\xe4\xa3\xba"; // 导出时间：
    let date = |d: &[u8]| -> Vec<u8> { [&b"[2019"[..], YEAR, b"09", MONTH, d, DAY].concat() };
    let columns: [&[u8]; 12] = [
        b"\xc3\xc5\xb5\xea\xb1\xe0\xba\xc5", // 门店编号
        b"\xc3\xc5\xb5\xea\xc3\xfb\xb3\xc6", // 门店名称
        b"\xbd\xbb\xd2\xd7\xb6\xa9\xb5\xa5\xd7\xdc\xb1\xca\xca\xfd", // 交易订单总笔数
        b"\xcd\xcb\xbf\xee\xb6\xa9\xb5\xa5\xd7\xdc\xb1\xca\xca\xfd", // 退款订单总笔数
        &[&b"\xb6\xa9\xb5\xa5\xbd\xf0\xb6\xee"[..], YUAN].concat(), // 订单金额（元）
        &[&b"\xc9\xcc\xbc\xd2\xca\xb5\xca\xd5"[..], YUAN].concat(), // 商家实收（元）
        &[&b"\xd6\xa7\xb8\xb6\xb1\xa6\xd3\xc5\xbb\xdd"[..], YUAN].concat(), // 支付宝优惠（元）
        &[&b"\xc9\xcc\xbc\xd2\xd3\xc5\xbb\xdd"[..], YUAN].concat(), // 商家优惠（元）
        &[&b"\xbf\xa8\xcf\xfb\xb7\xd1\xbd\xf0\xb6\xee"[..], YUAN].concat(), // 卡消费金额（元）
        &[&b"\xb7\xfe\xce\xf1\xb7\xd1"[..], YUAN].concat(), // 服务费（元）
        &[&b"\xb7\xd6\xc8\xf3"[..], YUAN].concat(), // 分润（元）
        &[&b"\xca\xb5\xca\xd5\xbe\xbb\xb6\xee"[..], YUAN].concat(), // 实收净额（元）
    ];
    let mut expected: Vec<u8> = Vec::new();
    let mut line = |parts: &[&[u8]]| {
        for p in parts {
            expected.extend_from_slice(p);
        }
        expected.push(b'\n');
    };
    line(&[b"#", TITLE]);
    line(&[b"#", ACCOUNT_LABEL, b"[20880211096256330156]"]);
    line(&[
        b"#",
        START,
        &date(b"16"),
        b" 00:00:00]   ",
        END,
        &date(b"17"),
        b" 00:00:00]",
    ]);
    line(&[b"#", &[b'-'; 41], LIST, &[b'-'; 40]]);
    line(&[&columns.join(&b","[..])]);
    // Stores in order of (门店编号, 门店名称): the one without a store first. The 1000 fen
    // payment with a 6 fen fee and the 250 fen refund returning 1 fen of it: 商家实收 7.50,
    // 服务费 0.05, 实收净额 7.50 − 0.05 = 7.45.
    line(&[b"\t,\t,1,0,0.01,0.01,0.00,0.00,0.00,0.00,0.00,0.01"]);
    line(&[
        b"S1\t,",
        STORE_NAME,
        b"\t,1,1,7.50,7.50,0.00,0.00,0.00,0.05,0.00,7.45",
    ]);
    line(&[TOTAL, b"\t,\t,2,1,7.51,7.51,0.00,0.00,0.00,0.05,0.00,7.46"]);
    line(&[b"#", &[b'-'; 40], LIST, ENDS, &[b'-'; 37]]);
    line(&[b"#", EXPORTED, &date(b"17"), b" 05:46:49]"]);

    let summary = Summary::from_details(&summary_sample());
    let header =
        BillHeader::new(TableKind::Summary, ACCOUNT, "2019-09-16".parse().unwrap()).unwrap();
    let exported = datetime(2019, 9, 17, 5, 46, 49, 0);
    let written = summary
        .write_table(
            Vec::new(),
            &header,
            Some(exported),
            true,
            WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(written, expected, "{}", encoding_rs::GBK.decode(&written).0);

    // The same member inside the ZIP, under its GBK name, after the detail member.
    let zip = write_trade_zip(
        Cursor::new(Vec::new()),
        ACCOUNT,
        "2019-09-16".parse().unwrap(),
        &summary_sample(),
        exported,
    )
    .unwrap()
    .into_inner();
    let summary_name: &[u8] =
        b"20880211096256330156_20190916_\xd2\xb5\xce\xf1\xc3\xf7\xcf\xb8(\xbb\xe3\xd7\xdc).csv"; // …_业务明细(汇总).csv
    let detail_name: &[u8] = b"20880211096256330156_20190916_\xd2\xb5\xce\xf1\xc3\xf7\xcf\xb8.csv"; // …_业务明细.csv
    let find = |needle: &[u8]| zip.windows(needle.len()).position(|w| w == needle);
    let (detail_at, summary_at) = (find(detail_name).unwrap(), find(summary_name).unwrap());
    assert!(detail_at < summary_at, "the detail entry comes first");
    let mut archive = BillArchive::new(Cursor::new(zip.clone())).unwrap();
    let entries = archive.entries().to_vec();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].kind, Some(TableKind::Summary));
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut archive.entry_reader(&entries[1]).unwrap(), &mut data).unwrap();
    assert_eq!(data, expected);
}

#[test]
fn summary_without_the_total_row_reads_and_checks() {
    let summary = Summary::from_details(&summary_sample());
    let header = BillHeader::new(TableKind::Summary, ACCOUNT, "2019-09".parse().unwrap()).unwrap();
    for with_total in [true, false] {
        let bytes = summary
            .write_table(
                Vec::new(),
                &header,
                None,
                with_total,
                WriteOptions::default(),
            )
            .unwrap();
        let mut table = TableReader::new(&bytes[..]).unwrap();
        let back: Vec<SummaryRow> = table
            .by_ref()
            .map(|r| r.unwrap().as_summary().unwrap().clone())
            .collect();
        assert_eq!(back, summary.rows(with_total));
        assert!(table.check().is_ok(), "{}", table.check());
        assert_eq!(table.totals().summary_total.is_some(), with_total);
        // The store rows add up to the 合计 row whether or not the file has one.
        let sums = &table.totals().summary;
        assert_eq!(
            (
                sums.trade_count,
                sums.refund_count,
                sums.received,
                sums.net_received
            ),
            (2, 1, m(751), m(746))
        );
    }

    // A tampered total is still reported.
    let mut rows = summary.rows(true);
    rows[2].net_received = m(751);
    let mut w = TableWriter::new(Vec::new(), TableKind::Summary, &header).unwrap();
    for r in rows {
        w.write_row(&Row::Summary(r)).unwrap();
    }
    let bytes = w.finish_with_totals(None).unwrap();
    let mut table = TableReader::new(&bytes[..]).unwrap();
    let _ = table.skip_to_end().unwrap();
    assert_eq!(
        table.check().to_string(),
        "合计 实收净额（元）: the footer says 7.51, the rows add up to 7.46"
    );

    // The old layout stays available: the detail entry alone.
    let zip = write_trade_zip_with(
        Cursor::new(Vec::new()),
        ACCOUNT,
        "2019-09".parse().unwrap(),
        &summary_sample(),
        datetime(2019, 10, 1, 0, 0, 0, 0),
        TradeZipOptions::default().summary(false),
    )
    .unwrap();
    let archive = BillArchive::new(Cursor::new(zip.into_inner())).unwrap();
    let names: Vec<&str> = archive.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["20880211096256330156_201909_业务明细.csv"]);
}
