//! Just enough of ELF, Mach-O and PE to tell what a native library is built for and whether its
//! symbols were stripped, on any build machine (the pack job checks all six RIDs' libraries).

/// What a native library file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Native {
    /// `linux`, `osx` or `win`: the RID's operating system part.
    pub os: &'static str,
    /// `x64` or `arm64` (anything else: the machine number).
    pub arch: String,
    /// Sections or symbols a stripped release library does not have, by name (empty: stripped).
    /// PE images keep no symbol table; for them this lists nothing.
    pub unstripped: Vec<String>,
}

/// Reads the header of a library; an error says why it is not one we ship.
pub fn inspect(bytes: &[u8]) -> Result<Native, String> {
    match bytes {
        [0x7f, b'E', b'L', b'F', ..] => elf(bytes),
        [0xcf, 0xfa, 0xed, 0xfe, ..] => macho(bytes),
        [b'M', b'Z', ..] => pe(bytes),
        _ => Err("not an ELF, Mach-O (64-bit) or PE file".into()),
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn truncated() -> String {
    "the file is truncated".into()
}

fn elf(bytes: &[u8]) -> Result<Native, String> {
    // ELFCLASS64, little-endian: every RID we ship.
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let arch = match u16_at(bytes, 0x12).ok_or_else(truncated)? {
        0x3e => "x64".to_owned(),
        0xb7 => "arm64".to_owned(),
        other => format!("ELF machine {other:#x}"),
    };
    let shoff = u64_at(bytes, 0x28).ok_or_else(truncated)? as usize;
    let shentsize = u16_at(bytes, 0x3a).ok_or_else(truncated)? as usize;
    let shnum = u16_at(bytes, 0x3c).ok_or_else(truncated)? as usize;
    let shstrndx = u16_at(bytes, 0x3e).ok_or_else(truncated)? as usize;
    let header = |index: usize| shoff + index * shentsize;
    let mut unstripped = Vec::new();
    if shnum > 0 {
        let names_at = u64_at(bytes, header(shstrndx) + 0x18).ok_or_else(truncated)? as usize;
        for index in 0..shnum {
            let name_offset = u32_at(bytes, header(index)).ok_or_else(truncated)? as usize;
            let name = bytes
                .get(names_at + name_offset..)
                .and_then(|rest| rest.split(|b| *b == 0).next())
                .map(|name| String::from_utf8_lossy(name).into_owned())
                .ok_or_else(truncated)?;
            if name == ".symtab" || name.starts_with(".debug_") {
                unstripped.push(name);
            }
        }
    }
    Ok(Native {
        os: "linux",
        arch,
        unstripped,
    })
}

fn macho(bytes: &[u8]) -> Result<Native, String> {
    let arch = match u32_at(bytes, 4).ok_or_else(truncated)? {
        0x0100_0007 => "x64".to_owned(),
        0x0100_000c => "arm64".to_owned(),
        other => format!("Mach-O CPU type {other:#x}"),
    };
    let commands = u32_at(bytes, 16).ok_or_else(truncated)? as usize;
    let mut at = 32; // mach_header_64
    let mut unstripped = Vec::new();
    for _ in 0..commands {
        let command = u32_at(bytes, at).ok_or_else(truncated)?;
        let size = u32_at(bytes, at + 4).ok_or_else(truncated)? as usize;
        match command {
            // LC_SEGMENT_64: a __DWARF segment is debug information.
            0x19 => {
                let name = bytes.get(at + 8..at + 24).ok_or_else(truncated)?;
                if name.starts_with(b"__DWARF") {
                    unstripped.push("__DWARF".to_owned());
                }
            }
            // LC_SYMTAB: debugger (stab) entries are what `strip` removes; exported symbols stay.
            0x2 => {
                let symbols = u32_at(bytes, at + 8).ok_or_else(truncated)? as usize;
                let count = u32_at(bytes, at + 12).ok_or_else(truncated)? as usize;
                let stabs = (0..count)
                    .filter(|i| {
                        bytes
                            .get(symbols + i * 16 + 4)
                            .is_some_and(|n_type| n_type & 0xe0 != 0)
                    })
                    .count();
                if stabs > 0 {
                    unstripped.push(format!("{stabs} debugger symbol entries"));
                }
            }
            _ => {}
        }
        if size == 0 {
            return Err("a Mach-O load command has size 0".into());
        }
        at += size;
    }
    Ok(Native {
        os: "osx",
        arch,
        unstripped,
    })
}

fn pe(bytes: &[u8]) -> Result<Native, String> {
    let header = u32_at(bytes, 0x3c).ok_or_else(truncated)? as usize;
    if bytes.get(header..header + 4) != Some(b"PE\0\0") {
        return Err("an MZ file without a PE header".into());
    }
    let arch = match u16_at(bytes, header + 4).ok_or_else(truncated)? {
        0x8664 => "x64".to_owned(),
        0xaa64 => "arm64".to_owned(),
        other => format!("PE machine {other:#x}"),
    };
    Ok(Native {
        os: "win",
        arch,
        unstripped: Vec::new(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ELF64 with a section-name table and the given section names.
    pub(crate) fn elf_with_sections(names: &[&str]) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut offsets = Vec::new();
        for name in names.iter().chain([".shstrtab"].iter()) {
            offsets.push(strtab.len() as u32);
            strtab.extend_from_slice(name.as_bytes());
            strtab.push(0);
        }
        let mut bytes = vec![0u8; 64];
        bytes[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1]);
        bytes[0x12..0x14].copy_from_slice(&0x3eu16.to_le_bytes());
        let strtab_at = bytes.len();
        bytes.extend_from_slice(&strtab);
        let shoff = bytes.len();
        let count = offsets.len() + 1; // with the null section
        for index in 0..count {
            let mut header = vec![0u8; 64];
            if index > 0 {
                header[..4].copy_from_slice(&offsets[index - 1].to_le_bytes());
            }
            if index == count - 1 {
                header[0x18..0x20].copy_from_slice(&(strtab_at as u64).to_le_bytes());
            }
            bytes.extend_from_slice(&header);
        }
        bytes[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        bytes[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        bytes[0x3c..0x3e].copy_from_slice(&(count as u16).to_le_bytes());
        bytes[0x3e..0x40].copy_from_slice(&((count - 1) as u16).to_le_bytes());
        bytes
    }

    #[test]
    fn elf_symbol_tables_and_debug_sections_count_as_unstripped() {
        let stripped = inspect(&elf_with_sections(&[".text", ".dynsym"])).unwrap();
        assert_eq!((stripped.os, stripped.arch.as_str()), ("linux", "x64"));
        assert!(stripped.unstripped.is_empty());
        let full = inspect(&elf_with_sections(&[".text", ".symtab", ".debug_info"])).unwrap();
        assert_eq!(full.unstripped, [".symtab", ".debug_info"]);
    }

    #[test]
    fn pe_and_macho_headers_give_os_and_arch() {
        let mut pe_file = vec![0u8; 0x90];
        pe_file[..2].copy_from_slice(b"MZ");
        pe_file[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe_file[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe_file[0x84..0x86].copy_from_slice(&0xaa64u16.to_le_bytes());
        let native = inspect(&pe_file).unwrap();
        assert_eq!((native.os, native.arch.as_str()), ("win", "arm64"));

        let mut macho_file = vec![0u8; 32];
        macho_file[..4].copy_from_slice(&[0xcf, 0xfa, 0xed, 0xfe]);
        macho_file[4..8].copy_from_slice(&0x0100_0007u32.to_le_bytes());
        let native = inspect(&macho_file).unwrap();
        assert_eq!((native.os, native.arch.as_str()), ("osx", "x64"));
        assert!(inspect(b"#!/bin/sh").is_err());
    }

    #[test]
    fn this_machines_release_library_is_stripped_when_built() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap();
        let library = crate::layout::cargo_target(root)
            .join("release")
            .join(format!(
                "{}mscommerce_core{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ));
        let Ok(bytes) = std::fs::read(&library) else {
            return; // not built yet: `cargo xtask test` builds it before this runs
        };
        let native = inspect(&bytes).unwrap();
        assert!(native.unstripped.is_empty(), "{native:?}");
    }
}
