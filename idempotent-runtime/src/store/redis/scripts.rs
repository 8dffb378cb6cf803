//! The Lua scripts that make each step one atomic round trip, and the readers of their answers.
//!
//! A record is a hash with the fields `fp`, `params`, `fence`, `state` (`p` in progress, `c`
//! completed), `deadline` (server milliseconds: the lease's end) and `output`. An in-progress
//! record expires [`ABANDONED_RETENTION`](crate::store::ABANDONED_RETENTION) after its lease
//! ends, so a take-over can be told from a fresh start and a late owner can still complete; a
//! completed record expires at its TTL. Time is the server's
//! (`TIME`), so a fleet shares one clock.

use redis::{Script, Value};

use crate::store::durable::{self, StoredRecord};
use crate::store::{Begin, Fence, Finish};
use crate::{StoreError, StoreErrorKind};

/// `KEYS[1]` record; `ARGV` fingerprint, params, fence, lease ms, retention ms.
/// Answers `{0, took_over}` (acquired), `{1, fp, params, fence, state, deadline, output, now}`
/// (live record) or `{2}` (something else is stored under the key).
pub(super) fn begin() -> Script {
    Script::new(
        r"
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local took_over = 0
        if redis.call('EXISTS', KEYS[1]) == 1 then
            if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {2} end
            local r = redis.call('HMGET', KEYS[1], 'fp', 'params', 'fence', 'state', 'deadline', 'output')
            if r[4] == 'c' then
                return {1, r[1], r[2], r[3], r[4], r[5], r[6], now}
            elseif r[4] == 'p' then
                local deadline = tonumber(r[5])
                if deadline == nil then return {2} end
                if deadline > now then return {1, r[1], r[2], r[3], r[4], r[5], false, now} end
                took_over = 1
            else
                return {2}
            end
            redis.call('DEL', KEYS[1])
        end
        local lease = tonumber(ARGV[4])
        redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'params', ARGV[2], 'fence', ARGV[3], 'state', 'p', 'deadline', string.format('%d', now + lease))
        redis.call('PEXPIRE', KEYS[1], lease + tonumber(ARGV[5]))
        return {0, took_over}
        ",
    )
}

/// `KEYS[1]` record; `ARGV` fence, output, TTL ms, channel. Answers 1 (done, or already done
/// by this fence) or 0 (not owner).
pub(super) fn complete() -> Script {
    Script::new(
        r"
        if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
        local r = redis.call('HMGET', KEYS[1], 'fence', 'state')
        if r[1] == ARGV[1] and r[2] == 'c' then return 1 end
        if r[1] ~= ARGV[1] or r[2] ~= 'p' then return 0 end
        redis.call('HSET', KEYS[1], 'state', 'c', 'output', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        redis.call('PUBLISH', ARGV[4], KEYS[1])
        return 1
        ",
    )
}

/// `KEYS[1]` record; `ARGV` fence, channel. Answers 1 (done) or 0 (not owner).
pub(super) fn release() -> Script {
    Script::new(
        r"
        if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
        local r = redis.call('HMGET', KEYS[1], 'fence', 'state')
        if r[1] ~= ARGV[1] or r[2] ~= 'p' then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('PUBLISH', ARGV[2], KEYS[1])
        return 1
        ",
    )
}

/// `KEYS[1]` record; `ARGV` fence, lease ms, retention ms. Answers 1 (renewed) or 0 (not owner).
pub(super) fn renew() -> Script {
    Script::new(
        r"
        if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
        local r = redis.call('HMGET', KEYS[1], 'fence', 'state')
        if r[1] ~= ARGV[1] or r[2] ~= 'p' then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local lease = tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'deadline', string.format('%d', now + lease))
        redis.call('PEXPIRE', KEYS[1], lease + tonumber(ARGV[3]))
        return 1
        ",
    )
}

/// `KEYS[1]` record; `ARGV` fence. Answers 1 if still in progress under it with its lease running.
pub(super) fn running() -> Script {
    Script::new(
        r"
        if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local r = redis.call('HMGET', KEYS[1], 'fence', 'state', 'deadline')
        if r[1] == ARGV[1] and r[2] == 'p' and (tonumber(r[3]) or 0) > now then return 1 end
        return 0
        ",
    )
}

/// Reads [`begin`]'s answer; an acquisition's fence is filled in by the caller.
pub(super) fn begin_answer(value: Value) -> Result<Begin, StoreError> {
    let Value::Array(items) = value else {
        return Err(foreign());
    };
    match items.as_slice() {
        [Value::Int(0), Value::Int(took_over)] => Ok(Begin::Acquired {
            fence: Fence(0),
            took_over: *took_over == 1,
        }),
        [Value::Int(1), fp, params, fence, state, deadline, output, Value::Int(now)] => {
            let completed = match bytes(state) {
                Some(b"c") => true,
                Some(b"p") => false,
                _ => return Err(foreign()),
            };
            let (owner, lease_remaining_ms) = if completed {
                (0, 0)
            } else {
                let deadline = number(deadline).ok_or_else(foreign)?;
                let remaining = i128::from(deadline) - i128::from(*now);
                let remaining = i64::try_from(remaining).unwrap_or(i64::MAX);
                (number(fence).ok_or_else(foreign)?, remaining)
            };
            durable::existing(StoredRecord {
                fingerprint: bytes(fp).ok_or_else(foreign)?,
                params: bytes(params).ok_or_else(foreign)?,
                completed,
                output: bytes(output),
                owner,
                lease_remaining_ms,
            })
        }
        _ => Err(foreign()),
    }
}

/// Reads the answer of [`complete`], [`release`] or [`renew`].
pub(super) fn finish_answer(value: Value) -> Result<Finish, StoreError> {
    match value {
        Value::Int(1) => Ok(Finish::Done),
        Value::Int(0) => Ok(Finish::NotOwner),
        other => Err(StoreError::new(
            StoreErrorKind::Other,
            format!("redis: unexpected answer {other:?}"),
        )),
    }
}

/// Reads [`running`]'s answer: whether the owner still runs.
pub(super) fn running_answer(value: &Value) -> bool {
    matches!(value, Value::Int(1))
}

fn foreign() -> StoreError {
    StoreError::corrupt("the Redis record is not one this store wrote")
}

fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        _ => None,
    }
}

fn number(value: &Value) -> Option<u64> {
    std::str::from_utf8(bytes(value)?).ok()?.parse().ok()
}
