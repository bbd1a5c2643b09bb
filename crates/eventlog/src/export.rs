//! The log as JSON Lines (`xinfang export events`), for the county and auditors.

use crate::error::LogError;
use crate::log::EventLog;

impl EventLog {
    /// The log from sequence `from` to its end as it is now, one JSON object per line (`seq`,
    /// `subject`, the envelope as stored, personal data included). Read through a bounded
    /// consumer: a slow writer (a pipe to a file) holds a batch, not the log. Returns the lines.
    pub async fn write_jsonl(
        &self,
        from: u64,
        out: &mut impl std::io::Write,
    ) -> Result<u64, LogError> {
        use futures::StreamExt as _;
        let write = |e: std::io::Error| LogError::Encode {
            what: "an exported event",
            source: e.into(),
        };
        let last = self.last_seq().await?;
        if last < from.max(1) {
            return Ok(0);
        }
        let mut events = self.follow_bounded(from.max(1)).await?;
        let mut written = 0;
        while let Some(stored) = events.next().await {
            let stored = stored?;
            let line = serde_json::json!({
                "seq": stored.seq,
                "subject": stored.subject,
                "envelope": stored.envelope,
            });
            writeln!(out, "{line}").map_err(write)?;
            written += 1;
            if stored.seq >= last {
                break;
            }
        }
        out.flush().map_err(write)?;
        Ok(written)
    }
}
