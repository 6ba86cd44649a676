//! The bill reader over arbitrary bytes: as a ZIP or a CSV (GBK or UTF-8), behind a valid header or
//! not.
//!
//! Properties: no panic, no unbounded allocation; every table either reads to its end or stops at an
//! error that names a line or the entry; `check()` and the JSON rendering never fail on what was
//! read; and whatever rows were read, when the writer accepts them, read back equal (writer and
//! reader agree on quoting, TABs and line breaks).
#![no_main]

use std::io::Cursor;

use alipay_bill::{Row, TableKind, TableReader, TableWriter, WriteOptions};
use libfuzzer_sys::fuzz_target;

/// A detail table's header, so mutations also reach the row and footer code.
const PREFIX: &str = "#支付宝业务明细查询\n#账号：[20880211096256330156]\n#起始日期：[2019年09月16日 00:00:00]   终止日期：[2019年09月17日 00:00:00]\n#-----------------------------------------业务明细列表----------------------------------------\n支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\n";

fuzz_target!(|data: &[u8]| {
    read(data);
    // The same bytes as a ZIP arriving on a non-seekable stream.
    let _ = alipay_bill::read_zip_stream(data, |table| {
        while table.read_row()?.is_some() {}
        let _ = table.check();
        Ok::<_, alipay_bill::Error>(())
    });
    let mut framed = PREFIX.as_bytes().to_vec();
    framed.extend_from_slice(data);
    read(&framed);
});

fn read(data: &[u8]) {
    let _ = alipay_bill::read_tables(Cursor::new(data), "fuzz.csv", |table| {
        let mut rows = Vec::new();
        loop {
            match table.read_row() {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => break,
                Err(e) => {
                    assert!(
                        e.line().is_some() || e.entry().is_some(),
                        "unlocated error: {e}"
                    );
                    let _ = e.to_string();
                    return Ok::<_, alipay_bill::Error>(());
                }
            }
        }
        let check = table.check();
        assert!(table.is_finished());
        let _ = check.to_string();
        let mut sink = Vec::new();
        for row in &rows {
            alipay_bill::json::write_row(&mut sink, row).expect("JSON of a row");
            let _ = alipay_bill::csv_record(row, &[]);
        }
        round_trip(table.kind(), table.header(), &rows);
        Ok(())
    });
}

/// Rows the writer accepts read back equal (extra columns dropped: the writer is given none).
fn round_trip(kind: TableKind, header: &alipay_bill::BillHeader, rows: &[Row]) {
    let Ok(mut writer) =
        TableWriter::with_options(Vec::new(), kind, header, WriteOptions::default())
    else {
        return;
    };
    let mut written = Vec::new();
    for row in rows {
        if writer.write_row(row).is_ok() {
            written.push(strip_extra(row.clone()));
        }
    }
    let Ok(bytes) = writer.finish_with_totals(None) else {
        return;
    };
    let mut reader = TableReader::new(&bytes[..]).expect("the writer's header reads");
    let back: Vec<Row> = reader
        .by_ref()
        .map(|r| r.expect("the writer's rows read"))
        .collect();
    assert_eq!(back, written);
    // The computed footer matches (summaries are checked against their own 合计 row instead).
    if kind != TableKind::Summary {
        assert!(reader.check().is_ok(), "{}", reader.check());
    }
}

fn strip_extra(row: Row) -> Row {
    match row {
        Row::Detail(mut r) => {
            r.extra.clear();
            Row::Detail(r)
        }
        Row::Summary(mut r) => {
            r.extra.clear();
            Row::Summary(r)
        }
        Row::Account(mut r) => {
            r.extra.clear();
            Row::Account(r)
        }
    }
}
