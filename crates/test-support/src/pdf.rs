//! Reading PDFs back the way a person's tools do: `pdftotext` (poppler-utils), and
//! `xmllint` (libxml2-utils) for the XML inside them. Installed with apt-get when
//! missing and running as root; else the test fails with the line that installs them.

use std::process::Command;
use std::sync::Once;

/// Makes sure poppler-utils (pdftotext, pdffonts, pdfdetach) and xmllint are installed.
pub fn tools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let missing: Vec<&str> = [("pdftotext", "poppler-utils"), ("xmllint", "libxml2-utils")]
            .into_iter()
            .filter(|(tool, _)| Command::new(tool).arg("-v").output().is_err())
            .map(|(_, package)| package)
            .collect();
        if missing.is_empty() {
            return;
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        assert!(
            root,
            "missing tools: sudo apt-get install -y {}",
            missing.join(" ")
        );
        let ok = |c: &mut Command| {
            c.env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        assert!(
            ok(Command::new("apt-get").args(["update", "-qq"])),
            "apt-get update"
        );
        assert!(
            ok(Command::new("apt-get")
                .args(["install", "-y", "-qq"])
                .args(&missing)),
            "apt-get install"
        );
    });
}

/// The text of a PDF as `pdftotext` extracts it.
pub fn pdf_text(pdf: &[u8]) -> String {
    tools();
    let path = std::env::temp_dir().join(format!("meridian-doc-{}.pdf", uuid::Uuid::now_v7()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// `s` without any whitespace (extraction inserts line breaks and spaces where the
/// layout has columns; CLDR puts no-break spaces in amounts).
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
