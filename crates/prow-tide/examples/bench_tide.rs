//! Prints the merge-queue simulation table: `cargo run --release -p prow-tide --example bench_tide [T-minutes] [hours] [seed]`.

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().ok());
    let t = args.next().flatten().unwrap_or(60);
    let hours = args.next().flatten().unwrap_or(24 * 14);
    let seed = args.next().flatten().unwrap_or(1);
    println!(
        "Tide merge-queue simulation: T = {t} min, 30 ready PRs, {hours} h simulated, seed {seed}"
    );
    print!("{}", prow_tide::bench::report(t, hours, seed));
}
