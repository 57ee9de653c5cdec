//! `sidecar` with the uploaders this crate provides (local directory, `file://`). See
//! [`prow_pod_utils::sidecar`].

fn main() {
    std::process::exit(prow_pod_utils::cli::sidecar_main(
        prow_pod_utils::upload::default_uploader,
    ));
}
