//! `clonerefs`. See [`prow_pod_utils::clonerefs`].

fn main() {
    std::process::exit(prow_pod_utils::cli::clonerefs_main());
}
