//! `cargo run --release -p prow-deck --example bench [-- N]`: Deck's server time over N jobs.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let r = prow_deck::bench::bench(n).await?;
    println!("{r:#?}");
    Ok(())
}
