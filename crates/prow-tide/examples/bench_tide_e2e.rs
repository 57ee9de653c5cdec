//! Prints the merge-queue table measured end to end over the GitHub simulator:
//! `cargo run --release -p prow-tide --example bench_tide_e2e [T-minutes] [hours] [seed]`.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().ok());
    let t = args.next().flatten().unwrap_or(60);
    let hours = args.next().flatten().unwrap_or(48);
    let seed = args.next().flatten().unwrap_or(1);
    println!(
        "Tide merge-queue benchmark over the simulator: T = {t} min, 30 ready PRs, {hours} h simulated, seed {seed}"
    );
    let start = std::time::Instant::now();
    print!("{}", prow_tide::bench::report_e2e_blocking(t, hours, seed)?);
    println!("(wall time {:.1} s)", start.elapsed().as_secs_f64());
    Ok(())
}
