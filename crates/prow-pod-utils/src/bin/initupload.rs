//! `initupload` with the uploaders this crate provides (local directory, `file://`). See
//! [`prow_pod_utils::initupload`].

fn main() {
    std::process::exit(prow_pod_utils::cli::initupload_main(
        prow_pod_utils::upload::default_uploader,
    ));
}
