//! `alipay-bill` against the real bill in `../shared/vectors/bill`: the ZIP, the GBK CSV and the
//! UTF-8 CSV parse to the same exact rows, add up to their footer, render as the JSON lines of
//! `alipay bill parse`, and the writer gives the real bytes back.
// The helpers below are test code too: cfg(test) lets clippy's allow-*-in-tests cover them.
#![cfg(test)]

use std::io::Cursor;
use std::path::PathBuf;

use alipay_bill::{
    BillArchive, BusinessType, DetailRow, Money, Row, TableKind, TableReader, TableWriter,
};

const ZIP: &str = "20880211096256330156_20190916.zip";
const GBK: &str = "20880211096256330156_20190916_业务明细.gbk.csv";
const UTF8: &str = "20880211096256330156_20190916_业务明细.utf8.csv";
const ENTRY: &str = "20880211096256330156_20190916_业务明细.csv";

fn vectors() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/bill");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "{} is absent: the bill conformance test was not run",
            dir.display()
        );
        None
    }
}

/// Every table of `file` (ZIP or CSV), as (entry, rows, check passed).
fn parse(path: &PathBuf) -> Vec<(String, Vec<Row>, bool)> {
    let mut tables = Vec::new();
    let file = std::fs::File::open(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    alipay_bill::read_tables(file, &name, |table| {
        let rows = table.by_ref().collect::<Result<Vec<_>, _>>()?;
        tables.push((table.name().to_owned(), rows, table.check().is_ok()));
        Ok::<_, alipay_bill::Error>(())
    })
    .unwrap();
    tables
}

fn fen(f: i64) -> Money {
    Money::from_fen(f)
}

#[test]
fn zip_gbk_and_utf8_give_the_same_exact_rows() {
    let Some(dir) = vectors() else { return };
    let zip = parse(&dir.join(ZIP));
    let gbk = parse(&dir.join(GBK));
    let utf8 = parse(&dir.join(UTF8));
    assert_eq!(zip.len(), 1);
    assert_eq!(zip[0].0, ENTRY);
    assert_eq!((gbk[0].0.as_str(), utf8[0].0.as_str()), (GBK, UTF8));
    assert!(zip[0].2 && gbk[0].2 && utf8[0].2, "check() passes");
    assert_eq!(zip[0].1, gbk[0].1);
    assert_eq!(zip[0].1, utf8[0].1);

    let rows: Vec<&DetailRow> = zip[0].1.iter().map(|r| r.as_detail().unwrap()).collect();
    assert_eq!(rows.len(), 10);
    let trades = rows
        .iter()
        .filter(|r| r.business_type == BusinessType::Trade)
        .count();
    assert_eq!(trades, 6);

    assert_eq!(rows[0].trade_no, "2019091622001458860515315453");
    assert_eq!(rows[0].out_trade_no, "service_1568601259302");
    assert_eq!(rows[0].counterparty, "*津水(602***@qq.com)");
    assert_eq!((rows[0].order_amount, rows[0].received), (fen(1), fen(1)));
    assert_eq!(rows[0].refund_request_no, "");

    assert_eq!(rows[3].business_type, BusinessType::Refund);
    assert_eq!(rows[3].trade_no, "2019091622001458860513822558");
    assert_eq!(rows[3].received, fen(-1));
    assert_eq!(rows[3].refund_request_no, "re_test_1568604414433");

    let row9 = rows[8];
    assert_eq!(row9.out_trade_no, "20190916165659224L3VUQRL9");
    assert_eq!(
        [
            &row9.store_id,
            &row9.store_name,
            &row9.operator,
            &row9.terminal_id,
            &row9.remark
        ],
        ["", "", "", "", ""]
    );
    assert_eq!(row9.counterparty, "*庚辰(182****01)");

    let received: Money = rows.iter().map(|r| r.received).sum();
    assert_eq!(received, fen(2));
}

#[test]
fn header_and_footer_are_typed() {
    let Some(dir) = vectors() else { return };
    let mut archive = BillArchive::new(std::fs::File::open(dir.join(ZIP)).unwrap()).unwrap();
    let mut table = archive.open_kind(TableKind::Detail).unwrap().unwrap();
    assert_eq!(
        table.header().account.as_deref(),
        Some("20880211096256330156")
    );
    let date = table.header().period.and_then(|p| p.bill_date()).unwrap();
    assert_eq!(date.to_string(), "2019-09-16");
    let footer = table.skip_to_end().unwrap().clone();
    let trade = footer.trade.unwrap();
    let refund = footer.refund.unwrap();
    assert_eq!(
        (trade.count, trade.received.to_string()),
        (6, "0.06".to_owned())
    );
    assert_eq!(
        (refund.count, refund.received.to_string()),
        (4, "-0.04".to_owned())
    );
    assert_eq!(
        footer.exported_at.unwrap().to_string(),
        "2019-09-17T05:46:49"
    );
    assert!(table.check().is_ok(), "{}", table.check());
}

#[test]
fn jsonl_as_the_cli_prints_it() {
    let Some(dir) = vectors() else { return };
    let bytes = std::fs::read(dir.join(GBK)).unwrap();
    let mut table = TableReader::with_name(&bytes[..], GBK).unwrap();
    let mut out = Vec::new();
    assert!(
        alipay_bill::json::write_table(&mut table, &mut out)
            .unwrap()
            .is_ok()
    );
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 11);
    assert!(lines[..10].iter().all(|l| l["table"] == "detail"));
    assert_eq!(lines[8]["counterparty"], "*庚辰(182****01)");
    assert_eq!(
        lines[7]["refund_request_no"],
        "re_20190916150216125q8Lmiodp"
    );
    assert_eq!(lines[7]["received"], "-0.01");
    assert_eq!(lines[10]["table"], "footer");
    assert_eq!(lines[10]["trade"]["count"], 6);
    assert_eq!(lines[10]["refund"]["received"], "-0.04");
    assert_eq!(lines[10]["check"]["differences"], serde_json::json!([]));
}

#[test]
fn writer_gives_the_real_bytes_back() {
    let Some(dir) = vectors() else { return };
    for file in [GBK, UTF8] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let mut table = TableReader::new(&bytes[..]).unwrap();
        let options = alipay_bill::WriteOptions::default().encoding(table.encoding());
        let mut writer =
            TableWriter::with_options(Vec::new(), table.kind(), table.header(), options).unwrap();
        for row in table.by_ref() {
            writer.write_row(&row.unwrap()).unwrap();
        }
        let written = writer.finish(table.footer().unwrap()).unwrap();
        assert_eq!(written, bytes, "{file}");
    }

    // The whole ZIP as the emulator serves it reads back to the same rows and footer.
    let bytes = std::fs::read(dir.join(GBK)).unwrap();
    let mut table = TableReader::new(&bytes[..]).unwrap();
    let rows: Vec<DetailRow> = table
        .by_ref()
        .map(|r| r.unwrap().as_detail().unwrap().clone())
        .collect();
    let footer = table.footer().unwrap().clone();
    let zip = alipay_bill::write_trade_zip(
        Cursor::new(Vec::new()),
        "20880211096256330156",
        "2019-09-16".parse().unwrap(),
        &rows,
        footer.exported_at.unwrap(),
    )
    .unwrap()
    .into_inner();
    let mut archive = BillArchive::new(Cursor::new(zip)).unwrap();
    assert_eq!(archive.entries()[0].name, ENTRY);
    let mut table = archive.open_kind(TableKind::Detail).unwrap().unwrap();
    let back: Vec<DetailRow> = table
        .by_ref()
        .map(|r| r.unwrap().as_detail().unwrap().clone())
        .collect();
    assert_eq!(back, rows);
    assert_eq!(table.footer(), Some(&footer));
}
