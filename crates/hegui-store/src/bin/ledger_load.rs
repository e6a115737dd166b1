//! `hegui-ledger-load URL WRITERS [COUNT]`: appends audit records through the group-commit
//! writer with `WRITERS` concurrent tasks, printing `seq id` for every acknowledged record on
//! stdout (flushed per line), until `COUNT` records (default: forever). Used by the crash test,
//! which kills it with SIGKILL and checks that every printed record survived.

use std::io::Write as _;
use std::process::ExitCode;

use hegui_store::ledger::NewRecord;
use hegui_store::{AuditWriter, Store, WriterOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(writers)) = (
        args.first(),
        args.get(1).and_then(|w| w.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: hegui-ledger-load URL WRITERS [COUNT]");
        return ExitCode::from(2);
    };
    let count = args
        .get(2)
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    hegui_store::block_on(async move {
        let store = match Store::open(url).await {
            Ok(store) => store,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let writer = AuditWriter::start(store, WriterOptions::default());
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<String>();
        let per_task = count.div_ceil(writers.max(1));
        for w in 0..writers.max(1) {
            let writer = writer.clone();
            let sender = sender.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    let record = NewRecord::new("chat")
                        .end_user(format!("load-{w}"))
                        .request(format!("request {w}/{i}"))
                        .response("response");
                    match writer.append(record).await {
                        Ok(receipt) => {
                            if sender
                                .send(format!("{} {}\n", receipt.seq, receipt.id))
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            eprintln!("error: {e}");
                            return;
                        }
                    }
                }
            });
        }
        drop(sender);
        let mut stdout = std::io::stdout().lock();
        while let Some(line) = receiver.recv().await {
            if stdout
                .write_all(line.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
        }
        ExitCode::SUCCESS
    })
}
