//! `prow crd`: the ProwJob CRD generated from our types.

use std::process::ExitCode;

/// Print the CRD as YAML.
pub fn run() -> ExitCode {
    match serde_saphyr::to_string(&prow_api::crd::crd()) {
        Ok(s) => {
            print!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crd: {e}");
            ExitCode::FAILURE
        }
    }
}
