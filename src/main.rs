fn main() -> std::process::ExitCode {
    netdrift::cli::main()
}
