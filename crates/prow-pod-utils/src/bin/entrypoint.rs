//! `entrypoint`. See [`prow_pod_utils::entrypoint`].

fn main() {
    std::process::exit(prow_pod_utils::cli::entrypoint_main());
}
