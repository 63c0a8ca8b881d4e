//! The input framing of [`crate::refresh_health`]: a program id, the clock sysvar's bytes and
//! the accounts, decoded into owned storage that `AccountInfo`s borrow.
use anchor_lang::prelude::{AccountInfo, Clock, Pubkey};
use std::fmt;

pub const MAGIC: &[u8; 4] = b"XMH1";
/// The clock sysvar account's size: five 8-byte fields.
pub const CLOCK_LEN: usize = 40;
/// More accounts than a transaction can carry is a framing error, not a computation.
pub const MAX_ACCOUNTS: usize = 256;

/// Why an input could not be framed (names the field, as the TS loader reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    BadMagic,
    Truncated { field: &'static str, account: Option<usize> },
    TooManyAccounts(usize),
    TrailingBytes(usize),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadMagic => write!(f, "input does not start with XMH1"),
            FrameError::Truncated { field, account: Some(i) } => {
                write!(f, "input ends inside account {i}'s {field}")
            }
            FrameError::Truncated { field, account: None } => write!(f, "input ends inside the {field}"),
            FrameError::TooManyAccounts(n) => write!(f, "{n} accounts (at most {MAX_ACCOUNTS})"),
            FrameError::TrailingBytes(n) => write!(f, "{n} bytes after the last account"),
        }
    }
}

pub struct OwnedAccount {
    pub key: Pubkey,
    pub owner: Pubkey,
    pub lamports: u64,
    pub executable: bool,
    pub data: Vec<u8>,
}

pub struct Frame {
    pub program_id: Pubkey,
    pub clock: Clock,
    pub accounts: Vec<OwnedAccount>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    account: Option<usize>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], FrameError> {
        if self.bytes.len() < n {
            return Err(FrameError::Truncated { field, account: self.account });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], FrameError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, field)?);
        Ok(a)
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, FrameError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }
    fn i64(&mut self, field: &'static str) -> Result<i64, FrameError> {
        Ok(i64::from_le_bytes(self.array(field)?))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, FrameError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }
}

impl Frame {
    pub fn parse(input: &[u8]) -> Result<Frame, FrameError> {
        let mut r = Reader { bytes: input, account: None };
        if r.take(4, "magic").map_err(|_| FrameError::BadMagic)? != MAGIC {
            return Err(FrameError::BadMagic);
        }
        let program_id = Pubkey::new_from_array(r.array("program id")?);
        let clock = Clock {
            slot: r.u64("clock")?,
            epoch_start_timestamp: r.i64("clock")?,
            epoch: r.u64("clock")?,
            leader_schedule_epoch: r.u64("clock")?,
            unix_timestamp: r.i64("clock")?,
        };
        let count = usize::try_from(r.u32("account count")?).unwrap_or(usize::MAX);
        if count > MAX_ACCOUNTS {
            return Err(FrameError::TooManyAccounts(count));
        }
        let mut accounts = Vec::with_capacity(count);
        for i in 0..count {
            r.account = Some(i);
            let key = Pubkey::new_from_array(r.array("address")?);
            let owner = Pubkey::new_from_array(r.array("owner")?);
            let lamports = r.u64("lamports")?;
            let executable = r.take(1, "executable flag")?[0] != 0;
            let len = usize::try_from(r.u32("data length")?).unwrap_or(usize::MAX);
            let data = r.take(len, "data")?.to_vec();
            accounts.push(OwnedAccount { key, owner, lamports, executable, data });
        }
        if !r.bytes.is_empty() {
            return Err(FrameError::TrailingBytes(r.bytes.len()));
        }
        Ok(Frame { program_id, clock, accounts })
    }

    /// Read-only, unsigned views of the accounts, as a `refresh_health` transaction passes them.
    pub fn account_infos(&mut self) -> Vec<AccountInfo<'_>> {
        self.accounts
            .iter_mut()
            .map(|a| {
                AccountInfo::new(&a.key, false, false, &mut a.lamports, &mut a.data, &a.owner, a.executable)
            })
            .collect()
    }
}
