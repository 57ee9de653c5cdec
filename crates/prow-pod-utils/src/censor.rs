//! Secret censoring: every secret value, and its base64 forms, is replaced by as many `X`s as
//! it has bytes before logs and artifacts leave the pod.
//!
//! Matching follows Prow's replacer: scanning left to right, at each position the secret that
//! was registered first wins. Lengths never change, so files keep their size and offsets, and
//! gzipped tarballs can be censored member by member without rebuilding their headers.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, MatchKind};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// Prow's default streaming buffer (two frames of 5 MiB).
pub const DEFAULT_BUFFER_SIZE: usize = 10 * 1024 * 1024;

/// Standard base64 with padding, as Go's `base64.StdEncoding`.
pub fn base64_std(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Replaces secrets with `X`s.
#[derive(Clone, Debug)]
pub struct Censorer {
    matcher: Option<AhoCorasick>,
    patterns: Vec<Vec<u8>>,
    largest: usize,
}

impl Censorer {
    /// A censorer for `secrets` (Prow's `Refresh`): each secret is trimmed; empty values,
    /// `true`/`false` and values shorter than `min_length` are skipped; the trimmed value, the
    /// base64 of the raw value and (if different) the base64 of the trimmed value are
    /// censored.
    pub fn new<S: AsRef<[u8]>>(secrets: &[S], min_length: usize) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        for raw in secrets {
            let raw = raw.as_ref();
            // Trim like Go's TrimSpace, without mangling secrets that are not UTF-8.
            let trimmed: &[u8] = match std::str::from_utf8(raw) {
                Ok(s) => s.trim().as_bytes(),
                Err(_) => raw.trim_ascii(),
            };
            let mut to_encode: Vec<&[u8]> = vec![raw];
            if trimmed.len() != raw.len() {
                to_encode.push(trimmed);
            }
            if trimmed.is_empty()
                || trimmed.eq_ignore_ascii_case(b"true")
                || trimmed.eq_ignore_ascii_case(b"false")
                || trimmed.len() < min_length
            {
                continue;
            }
            patterns.push(trimmed.to_vec());
            for item in to_encode {
                patterns.push(base64_std(item).into_bytes());
            }
        }
        let largest = patterns.iter().map(Vec::len).max().unwrap_or(0);
        let matcher = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&patterns)
                .ok()
        };
        Censorer {
            matcher,
            patterns,
            largest,
        }
    }

    /// Length of the longest censored value.
    pub fn largest_secret(&self) -> usize {
        self.largest
    }

    /// Number of values censored (secrets and their encodings).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Censor `data` in place.
    pub fn censor(&self, data: &mut [u8]) {
        let Some(m) = &self.matcher else {
            return;
        };
        let spans: Vec<(usize, usize)> =
            m.find_iter(&*data).map(|x| (x.start(), x.end())).collect();
        for (s, e) in spans {
            data[s..e].fill(b'X');
        }
    }

    /// Censor a stream with a bounded buffer. Bytes are held back until no secret can still
    /// start in them, so secrets that straddle reads are found.
    pub fn censor_stream(
        &self,
        input: &mut dyn Read,
        output: &mut dyn Write,
        buffer_size: usize,
    ) -> std::io::Result<()> {
        let keep = self.largest.saturating_sub(1);
        let chunk = buffer_size.max(2 * self.largest).max(2) / 2;
        let mut buf: Vec<u8> = Vec::with_capacity(chunk + keep);
        let mut read_buf = vec![0u8; chunk];
        loop {
            let n = input.read(&mut read_buf)?;
            if n == 0 {
                self.censor(&mut buf);
                output.write_all(&buf)?;
                return output.flush();
            }
            buf.extend_from_slice(&read_buf[..n]);
            if buf.len() > keep {
                self.censor(&mut buf);
                let emit = buf.len() - keep;
                output.write_all(&buf[..emit])?;
                buf.drain(..emit);
            }
        }
    }

    /// Censor a file in place (via a temporary file and a rename).
    pub fn censor_file(&self, path: &Path, buffer_size: usize) -> Result<(), String> {
        let mut input =
            fs::File::open(path).map_err(|e| format!("could not open file for censoring: {e}"))?;
        let tmp = temp_sibling(path, "tmp-censor");
        let result = (|| -> Result<(), String> {
            let mut out = fs::File::create(&tmp)
                .map_err(|e| format!("could not create temporary file for censoring: {e}"))?;
            self.censor_stream(&mut input, &mut out, buffer_size)
                .map_err(|e| format!("could not censor file: {e}"))?;
            let perms = fs::metadata(path).map(|m| m.permissions());
            if let Ok(p) = perms {
                let _ = fs::set_permissions(&tmp, p);
            }
            fs::rename(&tmp, path)
                .map_err(|e| format!("could not overwrite file after censoring: {e}"))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Censor the regular-file members of a gzipped tarball in place. Headers stay untouched
    /// (as in Prow, only contents are censored); a non-tar gzip is an error and is left as is.
    pub fn censor_tar_gz(&self, path: &Path) -> Result<(), String> {
        let raw = fs::read(path).map_err(|e| format!("could not open archive: {e}"))?;
        let mut tar = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut tar)
            .map_err(|e| format!("could not read archive: {e}"))?;
        self.censor_tar(&mut tar)?;
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&tar)
            .and_then(|_| enc.finish())
            .and_then(|zipped| {
                let tmp = temp_sibling(path, "tmp-archive");
                fs::write(&tmp, zipped)?;
                fs::rename(&tmp, path)
            })
            .map_err(|e| format!("could not re-pack archive: {e}"))
    }

    fn censor_tar(&self, tar: &mut [u8]) -> Result<(), String> {
        let mut off = 0;
        loop {
            if off >= tar.len() {
                return Ok(());
            }
            if off + 512 > tar.len() {
                return Err("could not read archive: unexpected EOF".into());
            }
            let header = &tar[off..off + 512];
            if header.iter().all(|&b| b == 0) {
                return Ok(());
            }
            let invalid = || "could not read archive: invalid tar header".to_string();
            // The checksum is the byte sum with its own field counted as spaces.
            let sum: usize = header
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        usize::from(b)
                    }
                })
                .sum();
            if parse_octal(&header[148..156]) != Some(sum) {
                return Err(invalid());
            }
            let size = parse_octal(&header[124..136]).ok_or_else(invalid)?;
            let typeflag = header[156];
            let start = off + 512;
            let end = start
                .checked_add(size)
                .filter(|e| *e <= tar.len())
                .ok_or_else(|| "could not read archive: unexpected EOF".to_string())?;
            if matches!(typeflag, b'0' | 0 | b'7') {
                self.censor(&mut tar[start..end]);
            }
            off = start + size.div_ceil(512) * 512;
        }
    }
}

fn parse_octal(field: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    usize::from_str_radix(s, 8).ok()
}

fn temp_sibling(path: &Path, prefix: &str) -> PathBuf {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    dir.join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ))
}

/// Go's `http.DetectContentType` for the two archive types censoring cares about.
pub fn archive_kind(path: &Path) -> std::io::Result<Option<&'static str>> {
    let mut head = [0u8; 4];
    let mut f = fs::File::open(path)?;
    let n = f.read(&mut head)?;
    Ok(if n >= 3 && head[..3] == [0x1f, 0x8b, 0x08] {
        Some("application/x-gzip")
    } else if n >= 4 && head == *b"PK\x03\x04" {
        Some("application/zip")
    } else {
        None
    })
}

/// Auth entry of a docker config.
#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    password: String,
    #[serde(default)]
    auth: String,
}

fn auths(entries: impl Iterator<Item = AuthEntry>) -> Vec<String> {
    let mut v = Vec::new();
    for e in entries {
        if !e.auth.is_empty() {
            v.push(e.auth);
        }
        if !e.password.is_empty() {
            v.push(e.password);
        }
    }
    v
}

/// Every value of an INI file (all sections, including the default one).
fn ini_values(content: &str) -> Vec<String> {
    let mut v = Vec::new();
    for line in content.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with(';') || l.starts_with('#') || l.starts_with('[') {
            continue;
        }
        let Some(i) = l.find(['=', ':']) else {
            continue;
        };
        let val = l[i + 1..].trim();
        let val = val
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(val);
        v.push(val.to_string());
    }
    v
}

/// Extra secrets inside a secret file that is a docker config or a listed INI file.
fn extra_secrets(name: &str, raw: &[u8], ini_filenames: &[String]) -> Result<Vec<String>, String> {
    if name == ".dockercfg" {
        let m: std::collections::BTreeMap<String, AuthEntry> =
            serde_json::from_slice(raw).map_err(|e| e.to_string())?;
        return Ok(auths(m.into_values()));
    }
    if name == ".dockerconfigjson" {
        #[derive(serde::Deserialize)]
        struct Cfg {
            #[serde(default)]
            auths: std::collections::BTreeMap<String, AuthEntry>,
        }
        let c: Cfg = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
        return Ok(auths(c.auths.into_values()));
    }
    if ini_filenames.iter().any(|n| n == name) {
        return Ok(ini_values(&String::from_utf8_lossy(raw)));
    }
    Ok(Vec::new())
}

/// Read every secret under the given directories (Prow's `loadSecrets`). Kubernetes' `..data`
/// bookkeeping entries are skipped; files are read through their symlinks.
pub fn load_secrets(paths: &[String], ini_filenames: &[String]) -> Result<Vec<Vec<u8>>, String> {
    fn walk(p: &Path, ini: &[String], out: &mut Vec<Vec<u8>>) -> Result<(), String> {
        let meta = fs::symlink_metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for e in entries {
                let n = e.file_name().map(|n| n.to_string_lossy().into_owned());
                if n.is_some_and(|n| n.starts_with("..")) {
                    continue;
                }
                walk(&e, ini, out)?;
            }
            return Ok(());
        }
        let raw = fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let extra = extra_secrets(&name, &raw, ini)
            .map_err(|e| format!("could not read {} as a docker secret: {e}", p.display()))?;
        out.push(raw);
        out.extend(extra.into_iter().map(String::into_bytes));
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        walk(Path::new(p), ini_filenames, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_go() {
        assert_eq!(base64_std(b""), "");
        assert_eq!(base64_std(b"f"), "Zg==");
        assert_eq!(base64_std(b"fo"), "Zm8=");
        assert_eq!(base64_std(b"foo"), "Zm9v");
        assert_eq!(base64_std(b"secret\n"), "c2VjcmV0Cg==");
    }

    #[test]
    fn censors_values_and_encodings() {
        let c = Censorer::new(&["secret\n", "true", "", "  ", "FALSE", "ab"], 3);
        // "secret", base64("secret\n"), base64("secret")
        assert_eq!(c.pattern_count(), 3);
        let mut d = b"a secret, c2VjcmV0Cg== and c2VjcmV0 but ab stays".to_vec();
        c.censor(&mut d);
        assert_eq!(
            String::from_utf8(d).unwrap(),
            "a XXXXXX, XXXXXXXXXXXX and XXXXXXXX but ab stays"
        );
        assert_eq!(c.largest_secret(), 12);
    }

    #[test]
    fn binary_secrets_are_kept_byte_exact() {
        let secret: &[u8] = &[0xff, 0xfe, b'k', b'e', b'y', b'\n'];
        let c = Censorer::new(&[secret], 0);
        let mut d = vec![b'a', 0xff, 0xfe, b'k', b'e', b'y', b'b'];
        c.censor(&mut d);
        assert_eq!(d, b"aXXXXXb");
    }

    #[test]
    fn first_registered_wins_at_a_position() {
        let c = Censorer::new(&["abc", "abcdef"], 0);
        let mut d = b"abcdef".to_vec();
        c.censor(&mut d);
        assert_eq!(d, b"XXXdef");
        let c = Censorer::new(&["abcdef", "abc"], 0);
        let mut d = b"abcdef abc".to_vec();
        c.censor(&mut d);
        assert_eq!(d, b"XXXXXX XXX");
    }

    #[test]
    fn streaming_finds_secrets_across_reads() {
        let c = Censorer::new(&["0123456789"], 0);
        let mut input = Vec::new();
        for i in 0..1000 {
            input.extend_from_slice(format!("line {i} 0123456789\n").as_bytes());
        }
        let mut out = Vec::new();
        // A tiny buffer forces secrets to straddle chunk boundaries.
        c.censor_stream(&mut &input[..], &mut out, 16).unwrap();
        assert_eq!(out.len(), input.len());
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("0123456789"));
        assert_eq!(text.matches("XXXXXXXXXX").count(), 1000);
    }

    #[test]
    fn loads_secret_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::create_dir(d.join("..2024_01")).unwrap();
        fs::write(d.join("..2024_01/token"), "hidden").unwrap();
        fs::write(d.join("token"), "tok\n").unwrap();
        fs::write(
            d.join(".dockerconfigjson"),
            r#"{"auths":{"registry.example.com":{"auth":"YXV0aA==","password":"pw-1"}}}"#,
        )
        .unwrap();
        fs::write(d.join("creds.ini"), "[s]\nkey = inivalue\n").unwrap();
        let s = load_secrets(&[d.display().to_string()], &["creds.ini".into()]).unwrap();
        let s: Vec<String> = s
            .into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect();
        assert!(s.contains(&"tok\n".to_string()));
        assert!(s.contains(&"YXV0aA==".to_string()));
        assert!(s.contains(&"pw-1".to_string()));
        assert!(s.contains(&"inivalue".to_string()));
        assert!(!s.contains(&"hidden".to_string()));
        assert!(load_secrets(&[d.join("missing").display().to_string()], &[]).is_err());
    }

    #[test]
    fn censors_tarball_members() {
        // A minimal ustar archive with one member.
        let content = b"the password is hunter22\n";
        let mut header = [0u8; 512];
        header[..8].copy_from_slice(b"file.txt");
        header[100..107].copy_from_slice(b"0000644");
        header[124..135].copy_from_slice(format!("{:011o}", content.len()).as_bytes());
        header[156] = b'0';
        header[257..262].copy_from_slice(b"ustar");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        let mut tar = header.to_vec();
        tar.extend_from_slice(content);
        tar.resize(512 + 512, 0);
        tar.extend_from_slice(&[0u8; 1024]);
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a.tar.gz");
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&tar).unwrap();
        fs::write(&p, enc.finish().unwrap()).unwrap();
        assert_eq!(archive_kind(&p).unwrap(), Some("application/x-gzip"));
        Censorer::new(&["hunter22"], 0).censor_tar_gz(&p).unwrap();
        let mut out = Vec::new();
        GzDecoder::new(&fs::read(&p).unwrap()[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), tar.len());
        assert_eq!(
            &out[512..512 + content.len()],
            b"the password is XXXXXXXX\n"
        );
        assert_eq!(&out[..512], &tar[..512]);

        // A gzip that is not a tarball is reported and left alone.
        let q = tmp.path().join("b.log.gz");
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(b"hunter22 plain text that is long enough to not be a header? no")
            .unwrap();
        let bytes = enc.finish().unwrap();
        fs::write(&q, &bytes).unwrap();
        assert!(Censorer::new(&["hunter22"], 0).censor_tar_gz(&q).is_err());
        assert_eq!(fs::read(&q).unwrap(), bytes);
    }
}
