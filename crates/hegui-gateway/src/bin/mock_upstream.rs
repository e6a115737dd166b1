//! `hegui-mock-upstream`: the mock OpenAI-compatible upstream as a process, for benchmarks and
//! manual tests. Arguments: `--listen ADDR --latency-ms N --ttft-ms N --chunk-delay-ms N
//! --chunk-chars N --chunk-count N --reply TEXT
//! --fault 400|500|timeout|malformed|truncate|slowloris|redirect`.

use std::process::ExitCode;

const USAGE: &str =
    "usage: hegui-mock-upstream [--listen ADDR (127.0.0.1:9090)] [--latency-ms N] [--ttft-ms N] \
[--chunk-delay-ms N] [--chunk-chars N (4)] [--chunk-count N] [--reply TEXT] \
[--fault 400|500|timeout|malformed|truncate|slowloris|redirect]
Per request, `#say:TEXT` in the last user message sets the answer and `#fault:F` injects a fault.";

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (listen, options) = match hegui_gateway::mock::parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("hegui-mock-upstream listening on http://{listen}/v1");
    match runtime.block_on(hegui_gateway::mock::serve(listen, options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {listen}: {e}");
            ExitCode::FAILURE
        }
    }
}
