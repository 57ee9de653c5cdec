//! The four programs' `main`s as library functions returning exit codes, so a build with
//! remote storage can reuse them with its own uploader factory.

use crate::JobSpec;
use crate::log::{Level, Logger};
use crate::upload::{GcsUploadOptions, Uploader};
use crate::{clonerefs, entrypoint, initupload, sidecar, signals};

/// Makes the uploader for a set of upload options.
pub type UploaderFactory = fn(&GcsUploadOptions) -> Box<dyn Uploader>;

fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// `entrypoint`: copy mode, or run the wrapped command; returns the exit code.
pub fn entrypoint_main() -> i32 {
    let log = Logger::new("entrypoint");
    // Signals must be blocked before any other thread exists.
    let interrupts = match signals::interrupts() {
        Ok(rx) => rx,
        Err(e) => {
            log.error(&format!("Could not set up signal handling: {e}"));
            return 1;
        }
    };
    let opts = match entrypoint::load_options(&args()) {
        Ok(o) => o,
        Err(e) => {
            log.error(&format!("Could not resolve options: {e}"));
            return 1;
        }
    };
    if opts.copy_mode_only {
        let dst = if opts.copy_dst.is_empty() {
            entrypoint::DEFAULT_COPY_DST
        } else {
            &opts.copy_dst
        };
        if let Err(e) = entrypoint::copy_self(dst) {
            log.error(&format!(
                "Failed running in copy mode, this is a prow bug: {e}"
            ));
            return 1;
        }
        return 0;
    }
    if let Err(e) = opts.validate() {
        log.error(&format!("Invalid options: {e}"));
        return 1;
    }
    entrypoint::Entrypoint::new(opts).run(interrupts)
}

/// `sidecar`: exits 0 even when tests failed or uploads failed, unless `entry_error`.
pub fn sidecar_main(make_uploader: UploaderFactory) -> i32 {
    let log = Logger::new("sidecar");
    let interrupts = match signals::interrupts() {
        Ok(rx) => rx,
        Err(e) => {
            log.error(&format!("Could not set up signal handling: {e}"));
            return 1;
        }
    };
    let mut opts = match sidecar::load_options(&args()) {
        Ok(o) => o,
        Err(e) => {
            log.error(&format!("Could not resolve options: {e}"));
            return 1;
        }
    };
    if let Err(e) = opts.validate() {
        log.error(&format!("Invalid options: {e}"));
        return 1;
    }
    let spec = match JobSpec::from_env() {
        Ok(s) => s,
        Err(e) => {
            // Prow logs this and exits 0: the job's outcome comes from the test container.
            log.log(
                Level::Error,
                "Failed to report job status",
                &[("error", format!("could not resolve job spec: {e}"))],
            );
            return 0;
        }
    };
    let uploader = make_uploader(&opts.gcs_options);
    let entry_error = opts.entry_error;
    let (failures, res) = sidecar::Sidecar::new(opts).run(&spec, uploader.as_ref(), interrupts);
    if let Err(e) = res {
        log.log(Level::Error, "Failed to report job status", &[("error", e)]);
    }
    if failures > 0 && entry_error {
        log.error(&format!("{failures} containers failed"));
        return 1;
    }
    0
}

/// `initupload`: non-zero when the upload or the clone failed.
pub fn initupload_main(make_uploader: UploaderFactory) -> i32 {
    let log = Logger::new("initupload");
    let opts = match initupload::load_options(&args()) {
        Ok(o) => o,
        Err(e) => {
            log.error(&format!("Could not resolve options: {e}"));
            return 1;
        }
    };
    if let Err(e) = opts.validate() {
        log.error(&format!("Invalid options: {e}"));
        return 1;
    }
    let spec = match JobSpec::from_env() {
        Ok(s) => s,
        Err(e) => {
            log.error(&format!(
                "Failed to initialize job: could not resolve job spec: {e}"
            ));
            return 1;
        }
    };
    let uploader = make_uploader(&opts.gcs);
    let now = chrono::Utc::now().timestamp();
    match initupload::run(&opts, &spec, uploader.as_ref(), &log, now) {
        Ok(()) => 0,
        Err(e) => {
            log.error(&format!("Failed to initialize job: {e}"));
            1
        }
    }
}

/// `clonerefs`: non-zero only on bad options, unwritable records, or failures with `fail`.
pub fn clonerefs_main() -> i32 {
    let log = Logger::new("clonerefs");
    let opts = match clonerefs::load_options(&args()) {
        Ok(o) => o,
        Err(e) => {
            log.error(&format!("Could not resolve options: {e}"));
            return 1;
        }
    };
    if let Err(e) = opts.validate(&log) {
        log.error(&format!("Invalid options: {e}"));
        return 1;
    }
    if let Err(e) = clonerefs::run(&opts, &clonerefs::RunSettings::default(), &log) {
        log.error(&format!("Failed to clone refs: {e}"));
        return 1;
    }
    log.info("Finished cloning refs");
    0
}
