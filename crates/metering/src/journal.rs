//! The usage journal: an append-only file of usage events, one JSON line each, in
//! numbered segments under one directory.
//!
//! The gateway has an event written before it finishes answering the client: with one
//! `write` of its own ([`Journal::append`], streams), or staged and written with the
//! others staged in the same turn of the scheduler ([`Journal::stage`], then
//! [`Journal::write_batch`]; whole responses). So once the client has its answer the
//! event is in the kernel's page cache and survives a crash (even `kill -9`) of this
//! process. Data still in the page cache
//! is lost only if the machine itself fails before the next `fdatasync`
//! ([`Journal::sync`], which the metering worker calls off the request path every
//! few seconds). The worker reads the same files; segments it has committed are deleted.
//!
//! Each appended event is also offered to the worker in memory ([`Journal::subscribe`]),
//! so that in the steady state the worker does not read the file back; whatever the
//! bounded channel drops, the worker notices as a gap and reads from the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use meridian_core::usage::{Staged, UsageSinkError};
use meridian_core::{UsageEvent, UsageSink};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Segments roll over past this size.
const SEGMENT_BYTES: u64 = 64 << 20;

/// A place in the journal: the byte offset just past a complete record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct JournalPosition {
    pub segment: u64,
    pub offset: u64,
}

/// An appended event as the worker receives it in memory, with where it sits in the
/// journal.
#[derive(Debug)]
pub struct Appended {
    pub event: UsageEvent,
    pub start: JournalPosition,
    pub end: JournalPosition,
}

pub struct Journal {
    dir: PathBuf,
    id: Uuid,
    writer: Mutex<SegmentWriter>,
    tail: std::sync::OnceLock<mpsc::Sender<Appended>>,
    /// Held for the journal's lifetime so that two processes never share a directory.
    _lock: File,
}

struct SegmentWriter {
    file: File,
    segment: u64,
    /// Just past the last record written to the file.
    offset: u64,
    /// Records taken but not yet written ([`Journal::stage`]), and their events.
    staged: Vec<u8>,
    staged_events: Vec<Appended>,
    /// The batch being staged; each write of staged records ends one.
    batch: u64,
    /// Batches whose write failed (rare: a full or failing disk), as runs of
    /// consecutive batches, so that a long outage takes one entry.
    failed: Vec<Range<u64>>,
    /// Segments rolled over since the last [`Journal::sync`], still to be flushed.
    /// Rolling over never waits for the disk: it happens on a request's path.
    retired: Vec<File>,
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:012}.jsonl"))
}

/// Segment numbers present in `dir`, ascending.
fn segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut found: Vec<u64> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".jsonl")?.parse().ok()
        })
        .collect();
    found.sort_unstable();
    Ok(found)
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, taking an exclusive lock on it. A
    /// record torn by a crash in the middle of a write is cut off.
    pub fn open(dir: &Path) -> io::Result<Journal> {
        fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))?;
        lock.try_lock().map_err(|_| {
            io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "usage journal {} is in use by another process",
                    dir.display()
                ),
            )
        })?;
        let id_path = dir.join("journal-id");
        let id = match fs::read_to_string(&id_path) {
            Ok(text) => Uuid::parse_str(text.trim()).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", id_path.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let id = Uuid::now_v7();
                fs::write(&id_path, id.to_string())?;
                id
            }
            Err(e) => return Err(e),
        };
        let segment = segments(dir)?.last().copied().unwrap_or(1);
        let path = segment_path(dir, segment);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let offset = complete_length(&mut file)?;
        file.set_len(offset)?;
        Ok(Journal {
            dir: dir.to_path_buf(),
            id,
            writer: Mutex::new(SegmentWriter {
                file,
                segment,
                offset,
                staged: Vec::with_capacity(16 << 10),
                staged_events: Vec::new(),
                batch: 0,
                failed: Vec::new(),
                retired: Vec::new(),
            }),
            tail: std::sync::OnceLock::new(),
            _lock: lock,
        })
    }

    /// Identifies this journal in `metering_cursors`.
    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Offers every event appended from now on to the returned receiver (at most
    /// `capacity` waiting; more are dropped there and stay in the file). Once per journal.
    pub fn subscribe(&self, capacity: usize) -> Option<mpsc::Receiver<Appended>> {
        let (tx, rx) = mpsc::channel(capacity);
        self.tail.set(tx).ok().map(|()| rx)
    }

    /// Appends one event; returns the position just past it.
    pub fn append(&self, event: UsageEvent) -> io::Result<JournalPosition> {
        let mut w = self.writer.lock();
        let (_, end) = self.stage_locked(&mut w, event)?;
        self.write_staged(&mut w)?;
        Ok(end)
    }

    /// Takes an event for the next write without writing it; returns its batch.
    pub fn stage(&self, event: UsageEvent) -> io::Result<u64> {
        let mut w = self.writer.lock();
        Ok(self.stage_locked(&mut w, event)?.0)
    }

    /// Writes the events staged in `batch`, with any staged after them, unless that
    /// is done already; fails if that batch's write failed.
    pub fn write_batch(&self, batch: u64) -> io::Result<()> {
        let mut w = self.writer.lock();
        if batch == w.batch {
            self.write_staged(&mut w)
        } else if w.failed.iter().any(|run| run.contains(&batch)) {
            Err(io::Error::other(
                "the usage journal write of this event failed",
            ))
        } else {
            Ok(())
        }
    }

    /// Adds the event's record to the staged bytes (starting a new segment first when
    /// the current one is full); returns its batch and the position just past it.
    fn stage_locked(
        &self,
        w: &mut SegmentWriter,
        event: UsageEvent,
    ) -> io::Result<(u64, JournalPosition)> {
        if w.offset + w.staged.len() as u64 >= SEGMENT_BYTES {
            self.write_staged(w)?;
            let segment = w.segment + 1;
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(segment_path(&self.dir, segment))?;
            let old = std::mem::replace(&mut w.file, file);
            w.retired.push(old);
            w.segment = segment;
            w.offset = 0;
        }
        let position = |w: &SegmentWriter| JournalPosition {
            segment: w.segment,
            offset: w.offset + w.staged.len() as u64,
        };
        let start = position(w);
        event.write_json(&mut w.staged);
        w.staged.push(b'\n');
        let end = position(w);
        w.staged_events.push(Appended { event, start, end });
        Ok((w.batch, end))
    }

    /// Writes the staged records with one `write` and offers them to the worker. On
    /// failure the file is cut back to its complete records and the batch's events
    /// are dropped (their requests fail and are not counted).
    fn write_staged(&self, w: &mut SegmentWriter) -> io::Result<()> {
        if w.staged.is_empty() {
            return Ok(());
        }
        let batch = w.batch;
        w.batch += 1;
        let written = w.file.write_all(&w.staged);
        let length = w.staged.len() as u64;
        w.staged.clear();
        let events = std::mem::take(&mut w.staged_events);
        if let Err(e) = written {
            let _ = w.file.set_len(w.offset);
            match w.failed.last_mut() {
                Some(run) if run.end == batch => run.end = batch + 1,
                _ => w.failed.push(batch..batch + 1),
            }
            return Err(e);
        }
        w.offset += length;
        // Still under the lock, so the channel's order is the file's order.
        if let Some(tail) = self.tail.get() {
            for event in events {
                let _ = tail.try_send(event);
            }
        }
        Ok(())
    }

    /// The position just past the last complete record.
    pub fn end(&self) -> JournalPosition {
        let w = self.writer.lock();
        JournalPosition {
            segment: w.segment,
            offset: w.offset,
        }
    }

    /// Flushes written records to the disk (not needed for crash safety of the
    /// process, only of the machine). Blocks on the disk: call it off the request path.
    pub fn sync(&self) -> io::Result<()> {
        let (retired, current) = {
            let mut w = self.writer.lock();
            (std::mem::take(&mut w.retired), w.file.try_clone()?)
        };
        for file in retired.iter().chain([&current]) {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Deletes the segments wholly before `position`.
    pub fn remove_before(&self, position: JournalPosition) -> io::Result<()> {
        for segment in segments(&self.dir)? {
            if segment < position.segment {
                fs::remove_file(segment_path(&self.dir, segment))?;
            }
        }
        Ok(())
    }

    /// Reads complete records from `from` on, up to `limit` of them. Returns the
    /// events and the position after the last one. A record that does not parse
    /// (possible only after a disk fault) is skipped and reported.
    pub fn read_from(
        &self,
        from: JournalPosition,
        limit: usize,
    ) -> io::Result<(Vec<UsageEvent>, JournalPosition)> {
        let mut events = Vec::new();
        let mut pos = from;
        loop {
            let path = segment_path(&self.dir, pos.segment);
            let next_exists = segment_path(&self.dir, pos.segment + 1).exists();
            match File::open(&path) {
                Ok(mut file) => {
                    file.seek(SeekFrom::Start(pos.offset))?;
                    let mut reader = BufReader::new(file);
                    let mut line = Vec::new();
                    while events.len() < limit {
                        line.clear();
                        let n = reader.read_until(b'\n', &mut line)?;
                        if n == 0 || line.last() != Some(&b'\n') {
                            break;
                        }
                        pos.offset += n as u64;
                        match serde_json::from_slice::<UsageEvent>(&line) {
                            Ok(e) => events.push(e),
                            Err(e) => {
                                tracing::error!(segment = pos.segment, offset = pos.offset, error = %e, "skipping unreadable usage journal record")
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && !next_exists => {
                    return Ok((events, pos));
                }
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                Err(_) => {}
            }
            // The writer never touches a segment again once the next one exists, so
            // having read to the end of it after seeing the next, we can move on.
            if events.len() >= limit || !next_exists {
                return Ok((events, pos));
            }
            pos = JournalPosition {
                segment: pos.segment + 1,
                offset: 0,
            };
        }
    }
}

/// Length of the file up to and including its last newline.
fn complete_length(file: &mut File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let mut back = 0u64;
    let mut buf = [0u8; 4096];
    while back < len {
        let step = (len - back).min(buf.len() as u64);
        file.seek(SeekFrom::Start(len - back - step))?;
        file.read_exact(&mut buf[..step as usize])?;
        if let Some(i) = buf[..step as usize].iter().rposition(|&b| b == b'\n') {
            return Ok(len - back - step + i as u64 + 1);
        }
        back += step;
    }
    Ok(0)
}

impl UsageSink for Journal {
    fn record(&self, event: UsageEvent) -> Result<(), UsageSinkError> {
        self.append(event)
            .map(|_| ())
            .map_err(UsageSinkError::Journal)
    }

    fn stage(&self, event: UsageEvent) -> Result<Staged, UsageSinkError> {
        Journal::stage(self, event)
            .map(Staged)
            .map_err(UsageSinkError::Journal)
    }

    fn make_durable(&self, staged: Staged) -> Result<(), UsageSinkError> {
        self.write_batch(staged.0).map_err(UsageSinkError::Journal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_core::{CustomerId, RequestId, TokenUsage};

    fn event(n: u64) -> UsageEvent {
        UsageEvent {
            request_id: RequestId::new(),
            customer_id: CustomerId::new(),
            key_id: None,
            model: "openai/gpt-4o-mini".into(),
            provider: "openai".into(),
            deployment: "d".into(),
            region: "us".into(),
            catalog_key: "gpt-4o-mini".into(),
            time: chrono::Utc::now(),
            tokens: TokenUsage {
                prompt: n,
                completion: 1,
                ..Default::default()
            },
            cost: Default::default(),
            latency_us: 1,
            ttft_us: None,
            status: 200,
            estimated: false,
        }
    }

    /// The prompt counts of every event in the journal, in order.
    fn prompts(j: &Journal) -> Vec<u64> {
        let start = JournalPosition {
            segment: 1,
            offset: 0,
        };
        let (events, _) = j.read_from(start, 100).unwrap();
        events.iter().map(|e| e.tokens.prompt).collect()
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("meridian-journal-{name}-{}", Uuid::now_v7()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn appends_and_reads_back_in_order() {
        let dir = tempdir("order");
        let j = Journal::open(&dir).unwrap();
        let mut last = JournalPosition::default();
        for n in 0..10 {
            last = j.append(event(n)).unwrap();
        }
        let (events, pos) = j
            .read_from(
                JournalPosition {
                    segment: 1,
                    offset: 0,
                },
                100,
            )
            .unwrap();
        assert_eq!(pos, last);
        assert_eq!(
            events.iter().map(|e| e.tokens.prompt).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        let (rest, _) = j
            .read_from(
                JournalPosition {
                    segment: 1,
                    offset: 0,
                },
                3,
            )
            .unwrap();
        assert_eq!(rest.len(), 3);
    }

    #[test]
    fn a_torn_last_record_is_cut_on_reopen() {
        let dir = tempdir("torn");
        let id = {
            let j = Journal::open(&dir).unwrap();
            j.append(event(1)).unwrap();
            j.id()
        };
        let mut f = OpenOptions::new()
            .append(true)
            .open(segment_path(&dir, 1))
            .unwrap();
        f.write_all(b"{\"request_id\":\"01").unwrap();
        let j = Journal::open(&dir).unwrap();
        assert_eq!(j.id(), id, "the journal keeps its identity across restarts");
        j.append(event(2)).unwrap();
        assert_eq!(prompts(&j), vec![1, 2]);
    }

    #[test]
    fn staged_events_reach_the_file_together_with_one_write() {
        let dir = tempdir("staged");
        let j = Journal::open(&dir).unwrap();
        let mut tail = j.subscribe(16).unwrap();
        let first = j.stage(event(1)).unwrap();
        let second = j.stage(event(2)).unwrap();
        assert_eq!(first, second, "staged in the same batch");
        assert_eq!(j.end().offset, 0, "nothing written yet");
        assert!(
            tail.try_recv().is_err(),
            "nothing offered before it is written"
        );

        j.write_batch(second).unwrap();
        let end = j.end();
        assert!(end.offset > 0);
        j.write_batch(first).unwrap();
        assert_eq!(j.end(), end, "a written batch is not written again");
        let offered: Vec<_> = std::iter::from_fn(|| tail.try_recv().ok()).collect();
        assert_eq!(
            offered
                .iter()
                .map(|a| a.event.tokens.prompt)
                .collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(offered[1].end, end);

        // An append writes what was staged before it, in order.
        j.stage(event(3)).unwrap();
        j.append(event(4)).unwrap();
        assert_eq!(prompts(&j), vec![1, 2, 3, 4]);
    }

    #[test]
    fn a_failed_write_fails_every_event_of_its_batch_and_keeps_the_file_whole() {
        let dir = tempdir("failed");
        let j = Journal::open(&dir).unwrap();
        j.append(event(1)).unwrap();
        let batch = j.stage(event(2)).unwrap();
        j.stage(event(3)).unwrap();
        // A handle that cannot write (as a full or failing disk would refuse).
        let read_only = File::open(segment_path(&dir, 1)).unwrap();
        let writable = std::mem::replace(&mut j.writer.lock().file, read_only);
        assert!(j.write_batch(batch).is_err());
        assert!(
            j.write_batch(batch).is_err(),
            "still failed when asked again"
        );

        j.writer.lock().file = writable;
        j.append(event(4)).unwrap();
        assert_eq!(prompts(&j), vec![1, 4], "the failed batch is not counted");
    }

    #[test]
    fn a_second_process_cannot_share_the_directory() {
        let dir = tempdir("lock");
        let _j = Journal::open(&dir).unwrap();
        let err = Journal::open(&dir).err().expect("second open must fail");
        assert!(
            err.to_string().contains("in use by another process"),
            "{err}"
        );
    }

    #[test]
    fn reading_crosses_segments() {
        let dir = tempdir("segments");
        let j = Journal::open(&dir).unwrap();
        j.append(event(1)).unwrap();
        j.writer.lock().offset = SEGMENT_BYTES; // force a roll-over
        let end = j.append(event(2)).unwrap();
        assert_eq!(end.segment, 2);
        let (events, pos) = j
            .read_from(
                JournalPosition {
                    segment: 1,
                    offset: 0,
                },
                100,
            )
            .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(pos, end);
        j.remove_before(end).unwrap();
        assert_eq!(segments(&dir).unwrap(), vec![2]);
    }
}
