//! How large one keychain item may be, in each keychain's own units, and how a token set
//! too large for one item is cut into parts that each fit.

/// What a keychain counts when it limits the size of a stored password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes of UTF-8, as the password is handed over.
    Utf8Bytes,
    /// UTF-16 code units (two bytes each), as Windows stores it.
    Utf16Units,
}

impl Unit {
    /// How many of these units `c` takes.
    pub fn of_char(self, c: char) -> usize {
        match self {
            Unit::Utf8Bytes => c.len_utf8(),
            Unit::Utf16Units => c.len_utf16(),
        }
    }

    /// How many of these units `s` takes.
    pub fn measure(self, s: &str) -> usize {
        match self {
            Unit::Utf8Bytes => s.len(),
            Unit::Utf16Units => s.encode_utf16().count(),
        }
    }
}

/// The largest password one keychain keeps in one item, in that keychain's own units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemLimit {
    pub backend: &'static str,
    pub max: usize,
    pub unit: Unit,
}

impl ItemLimit {
    /// Whether `s` fits one item of this keychain.
    pub fn admits(&self, s: &str) -> bool {
        self.unit.measure(s) <= self.max
    }
}

/// Windows Credential Manager: a credential blob holds at most `CRED_MAX_CREDENTIAL_BLOB_SIZE`
/// = 2,560 bytes, and keyring 3.6 stores a password there as UTF-16 with no terminator,
/// refusing one whose `encode_utf16().count() * 2` passes 2,560: 1,280 UTF-16 code units.
pub const WINDOWS_CREDENTIALS: ItemLimit = ItemLimit {
    backend: "Windows Credential Manager",
    max: 1_280,
    unit: Unit::Utf16Units,
};

/// macOS Keychain: Apple documents no limit on a generic password's data, and keyring
/// hands it the UTF-8 bytes as they are. We count 1 MiB, a bound no token set comes near.
pub const MACOS_KEYCHAIN: ItemLimit = ItemLimit {
    backend: "macOS Keychain",
    max: 1 << 20,
    unit: Unit::Utf8Bytes,
};

/// Secret Service (GNOME Keyring, KWallet): the API sets no limit; a secret travels as the
/// UTF-8 bytes in one D-Bus message, which the D-Bus specification caps at 128 MiB. We
/// count 1 MiB, well inside that.
pub const SECRET_SERVICE: ItemLimit = ItemLimit {
    backend: "Secret Service",
    max: 1 << 20,
    unit: Unit::Utf8Bytes,
};

/// Every keychain the vault may write to. The test doubles hold the vault to all of them at
/// once, each measured in its own units, so Windows' layout is tested on every system.
#[cfg(test)]
pub const ITEM_LIMITS: [ItemLimit; 3] = [WINDOWS_CREDENTIALS, MACOS_KEYCHAIN, SECRET_SERVICE];

/// The keychain of this system.
pub(super) const SYSTEM_LIMIT: [ItemLimit; 1] = if cfg!(target_os = "windows") {
    [WINDOWS_CREDENTIALS]
} else if cfg!(target_os = "macos") {
    [MACOS_KEYCHAIN]
} else {
    [SECRET_SERVICE]
};

/// Cuts `s` into the fewest pieces, in order, that each fit every keychain in `limits`, each
/// keychain counting in its own units.
pub(super) fn split<'a>(s: &'a str, limits: &[ItemLimit]) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut used = vec![0usize; limits.len()];
    let mut start = 0;
    for (at, c) in s.char_indices() {
        let over = limits
            .iter()
            .zip(&used)
            .any(|(l, n)| n + l.unit.of_char(c) > l.max);
        if over {
            parts.push(&s[start..at]);
            start = at;
            used.iter_mut().for_each(|n| *n = 0);
        }
        for (l, n) in limits.iter().zip(&mut used) {
            *n += l.unit.of_char(c);
        }
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
}
