//! The Kubernetes manifests under `deploy/` stay in step with the binary: every Deployment's
//! arguments parse as flags of the `prow` subcommand it names, and every volume mount has a volume.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn docs(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/kubernetes")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split("\n---\n")
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .map(|d| serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("{file}: {e}\n{d}")))
        .collect()
}

#[test]
fn deployment_args_are_flags_the_binary_accepts() {
    let deployments: Vec<Value> = docs("20-components.yaml")
        .into_iter()
        .filter(|d| d["kind"] == "Deployment")
        .collect();
    assert!(deployments.len() >= 8, "every component is deployed");
    for d in deployments {
        let name = d["metadata"]["name"].as_str().unwrap().to_owned();
        let pod = &d["spec"]["template"]["spec"];
        let c = &pod["containers"][0];
        let args: Vec<String> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        // clap rejects an unknown flag or a bad value before it gets to the trailing --help.
        let out = Command::new(common::prow_bin())
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: `prow {}` is rejected: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        let volumes: Vec<&str> = pod["volumes"]
            .as_array()
            .map(|v| v.iter().filter_map(|v| v["name"].as_str()).collect())
            .unwrap_or_default();
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            let v = m["name"].as_str().unwrap();
            assert!(volumes.contains(&v), "{name}: mount {v} has no volume");
        }
        assert_eq!(
            pod["serviceAccountName"]
                .as_str()
                .map(|sa| docs("10-rbac.yaml")
                    .iter()
                    .any(|r| r["kind"] == "ServiceAccount" && r["metadata"]["name"] == sa)),
            Some(true),
            "{name}: its service account is defined in 10-rbac.yaml"
        );
    }
}
