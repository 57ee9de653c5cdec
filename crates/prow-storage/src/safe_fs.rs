//! Opening and listing files without ever following a symbolic link.
//!
//! A job controls the content of its artifacts directory, and anyone who can write into a
//! `file://` bucket controls its entries: a link there (`x -> /etc/shadow`, `dir -> /`) must
//! never make prow read, upload or serve what it points to. Checking with `symlink_metadata`
//! and then opening the path leaves a window in which the entry can be swapped for a link, so
//! these helpers open with `O_NOFOLLOW` (the kernel refuses a link as the last component) and
//! walk directories one `openat` at a time from an already open directory (no component can be
//! a link either). Special files are refused too: opening a FIFO for reading would block the
//! uploader forever, so files are opened with `O_NONBLOCK` and must then be regular.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};

/// Flags for the final, regular-file component.
fn file_flags() -> OFlags {
    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY
}

/// Flags for a directory below the root.
fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// What kind of entry a directory holds, as seen without following links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed).
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

/// One directory entry, described without following links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's name (only UTF-8 names are reported).
    pub name: String,
    /// File, directory, link or other.
    pub kind: EntryKind,
    /// Size in bytes (of the link itself for a link).
    pub size: u64,
    /// Last modification time.
    pub modified: Option<SystemTime>,
}

fn kind_of(mode: FileType) -> EntryKind {
    match mode {
        FileType::RegularFile => EntryKind::File,
        FileType::Directory => EntryKind::Dir,
        FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}

/// Turn the kernel's "that is a link" answers into an error that says so.
fn no_links(e: rustix::io::Errno, what: &Path) -> io::Error {
    // ELOOP: the last component is a link (O_NOFOLLOW). ENOTDIR with O_DIRECTORY|O_NOFOLLOW:
    // a link (or a file) where a directory was expected.
    if e == rustix::io::Errno::LOOP {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link, which is never followed",
                what.display()
            ),
        );
    }
    io::Error::from(e)
}

fn regular(fd: OwnedFd, path: &Path) -> io::Result<File> {
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(File::from(fd))
}

/// Open `path` for reading if its last component is a regular file: a symbolic link there is
/// refused by the kernel (`O_NOFOLLOW`, no window between check and open), and so are FIFOs,
/// sockets, devices and directories. Earlier components are resolved normally: callers that
/// walked to `path` without following links (like the uploaders) pass only real directories.
pub fn open_regular_nofollow(path: &Path) -> io::Result<File> {
    let fd = rustix::fs::open(path, file_flags(), Mode::empty()).map_err(|e| no_links(e, path))?;
    regular(fd, path)
}

/// [`open_regular_nofollow`] off the async threads, as a tokio file.
pub async fn open_regular_nofollow_async(path: &Path) -> io::Result<tokio::fs::File> {
    let p = path.to_path_buf();
    let f = tokio::task::spawn_blocking(move || open_regular_nofollow(&p))
        .await
        .map_err(io::Error::other)??;
    Ok(tokio::fs::File::from_std(f))
}

/// The normal components of `rel`, or an error when it has any other kind (`..`, `.`, a root).
fn normal_components(rel: &Path) -> io::Result<Vec<&OsStr>> {
    rel.components()
        .map(|c| match c {
            Component::Normal(s) => Ok(s),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a plain relative path (absolute, '.' or '..')",
                    rel.display()
                ),
            )),
        })
        .collect()
}

/// Open the directory `root` (which may itself be reached through links: it is configuration,
/// not data) and then each directory of `parts` below it without following any link.
fn walk_dirs(root: &Path, parts: &[&OsStr]) -> io::Result<OwnedFd> {
    let mut dir = rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut walked = root.to_path_buf();
    for part in parts {
        walked.push(part);
        dir = rustix::fs::openat(&dir, *part, dir_flags(), Mode::empty()).map_err(|e| {
            if e == rustix::io::Errno::NOTDIR || e == rustix::io::Errno::LOOP {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} is not a directory (symbolic links are never followed)",
                        walked.display()
                    ),
                )
            } else {
                io::Error::from(e)
            }
        })?;
    }
    Ok(dir)
}

/// Open the regular file `rel` below the directory `root` for reading, following no link at
/// any component below `root`. `rel` must be a plain relative path (only normal components;
/// see [`crate::key::safe_relative_path`]). A link anywhere below `root` is an error
/// (`InvalidInput` for the last component, `NotFound` for a directory component).
pub fn open_beneath(root: &Path, rel: &Path) -> io::Result<File> {
    let parts = normal_components(rel)?;
    let Some((last, dirs)) = parts.split_last() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty path below the root",
        ));
    };
    let dir = walk_dirs(root, dirs)?;
    let full = root.join(rel);
    let fd = rustix::fs::openat(&dir, *last, file_flags(), Mode::empty())
        .map_err(|e| no_links(e, &full))?;
    regular(fd, &full)
}

/// What is at `rel` below `root` (`rel` empty means `root`), looked at without following any
/// link below `root`; `None` when nothing is there or a directory component is not a real
/// directory.
pub fn kind_beneath(root: &Path, rel: &Path) -> io::Result<Option<EntryKind>> {
    let parts = normal_components(rel)?;
    let Some((last, dirs)) = parts.split_last() else {
        return match walk_dirs(root, &[]) {
            Ok(_) => Ok(Some(EntryKind::Dir)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
    };
    let dir = match walk_dirs(root, dirs) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match rustix::fs::statat(&dir, *last, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(kind_of(FileType::from_raw_mode(st.st_mode)))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The entries of the directory `rel` below `root` (`rel` empty means `root`), sorted by name,
/// each described without following links; reaching the directory follows none either. A
/// missing directory is an error of kind `NotFound`.
pub fn read_dir_beneath(root: &Path, rel: &Path) -> io::Result<Vec<Entry>> {
    let parts = normal_components(rel)?;
    let dir = walk_dirs(root, &parts)?;
    let mut out = Vec::new();
    for item in Dir::read_from(&dir)? {
        let item = item?;
        let name = item.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        // Names that are not UTF-8 cannot be object names or URL segments; skip them.
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        let st = match rustix::fs::statat(
            &dir,
            OsStr::from_bytes(name.as_bytes()),
            AtFlags::SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => st,
            // Removed since the listing began.
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        out.push(Entry {
            name: name.to_string(),
            kind: kind_of(FileType::from_raw_mode(st.st_mode)),
            size: stat_size(&st),
            modified: stat_mtime(&st),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

// The field types of `struct stat` differ between architectures and rustix backends, so the
// conversions are fallible on some and identities on others.
#[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
fn stat_size(st: &rustix::fs::Stat) -> u64 {
    u64::try_from(st.st_size).unwrap_or(0)
}

#[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
fn stat_mtime(st: &rustix::fs::Stat) -> Option<SystemTime> {
    let secs = i64::try_from(st.st_mtime).ok()?;
    let nanos = u32::try_from(st.st_mtime_nsec).ok()?;
    let since = Duration::new(secs.unsigned_abs(), nanos);
    if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(since)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    fn read(f: io::Result<File>) -> io::Result<String> {
        let mut s = String::new();
        f?.read_to_string(&mut s)?;
        Ok(s)
    }

    #[test]
    fn links_are_never_followed() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret");
        std::fs::write(&secret, "host secret").unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("d")).unwrap();
        std::fs::write(r.join("d/ok.txt"), "fine").unwrap();
        symlink(&secret, r.join("d/leak")).unwrap();
        symlink(outside.path(), r.join("dirlink")).unwrap();
        symlink(r, r.join("d/loop")).unwrap();
        symlink("loop2", r.join("loop1")).unwrap();
        symlink("loop1", r.join("loop2")).unwrap();

        assert_eq!(
            read(open_beneath(r, Path::new("d/ok.txt"))).unwrap(),
            "fine"
        );
        for bad in [
            "d/leak",
            "dirlink/secret",
            "d/loop/d/ok.txt",
            "loop1",
            "d/loop",
        ] {
            let e = read(open_beneath(r, Path::new(bad))).unwrap_err();
            assert!(!e.to_string().contains("host secret"), "{bad}");
        }
        for bad in ["../x", "/etc/passwd", "d/../d/ok.txt", "./d/ok.txt"] {
            let e = open_beneath(r, Path::new(bad)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
        // The last component being a link is refused by the kernel itself.
        assert!(open_regular_nofollow(&r.join("d/leak")).is_err());
        assert!(open_regular_nofollow(&r.join("d/ok.txt")).is_ok());
        // A directory is not a file.
        assert!(open_regular_nofollow(&r.join("d")).is_err());

        assert_eq!(
            kind_beneath(r, Path::new("d/leak")).unwrap(),
            Some(EntryKind::Symlink)
        );
        assert_eq!(
            kind_beneath(r, Path::new("dirlink")).unwrap(),
            Some(EntryKind::Symlink)
        );
        assert_eq!(kind_beneath(r, Path::new("dirlink/secret")).unwrap(), None);
        assert_eq!(
            kind_beneath(r, Path::new("")).unwrap(),
            Some(EntryKind::Dir)
        );
        assert_eq!(
            kind_beneath(r, Path::new("d")).unwrap(),
            Some(EntryKind::Dir)
        );

        let names: Vec<(String, EntryKind)> = read_dir_beneath(r, Path::new("d"))
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.kind))
            .collect();
        assert_eq!(
            names,
            vec![
                ("leak".to_string(), EntryKind::Symlink),
                ("loop".to_string(), EntryKind::Symlink),
                ("ok.txt".to_string(), EntryKind::File),
            ]
        );
        assert!(read_dir_beneath(r, Path::new("dirlink")).is_err());
        assert!(read_dir_beneath(r, Path::new("d/loop")).is_err());
    }

    #[test]
    fn fifos_do_not_block() {
        let root = tempfile::tempdir().unwrap();
        let fifo = root.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // Would block forever without O_NONBLOCK; must be refused as not a regular file.
        let e = open_regular_nofollow(&fifo).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let e = open_beneath(root.path(), Path::new("fifo")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
