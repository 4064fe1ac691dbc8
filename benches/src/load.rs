//! A closed-loop HTTP/1.1 load generator over loopback: a fixed number of keep-alive connections,
//! each sending the next request as soon as the previous answer arrived, for a fixed time.
//! Requests are taken round-robin from a set prepared beforehand (pre-signed, pre-encrypted), so
//! the generator spends its time on I/O, not on building requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How hard and how long to push.
#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Time measured.
    pub duration: Duration,
    /// Time run first and not measured.
    pub warmup: Duration,
}

/// One request to send: method, path and query, headers, body.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// `GET`, `POST`…
    pub method: http::Method,
    /// Path and query.
    pub path_and_query: String,
    /// `Content-Type`, when there is a body.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Bytes,
}

impl PreparedRequest {
    /// A GET of `path_and_query`.
    pub fn get(path_and_query: impl Into<String>) -> Self {
        Self {
            method: http::Method::GET,
            path_and_query: path_and_query.into(),
            content_type: None,
            body: Bytes::new(),
        }
    }

    /// A POST of `body` to `path_and_query`.
    pub fn post(
        path_and_query: impl Into<String>,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            method: http::Method::POST,
            path_and_query: path_and_query.into(),
            content_type: Some(content_type),
            body: body.into(),
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Which target.
    pub name: String,
    /// Answers received in the measured window.
    pub requests: u64,
    /// Answers that were not 2xx, or connections that failed, in the measured window.
    pub errors: u64,
    /// Answers a second.
    pub rps: f64,
    /// Latency percentiles.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Resident set of the sampled process (KiB) when measuring started.
    pub rss_start_kib: u64,
    /// Largest resident set (KiB) sampled while measuring.
    pub rss_peak_kib: u64,
    /// Resident set (KiB) when measuring ended.
    pub rss_end_kib: u64,
    /// CPU time (user + system) the sampled process spent in the measured window, divided by
    /// the requests answered: what one request costs the server, whatever the generator costs.
    pub cpu_per_request: Option<Duration>,
    /// The same for the process running the generator (this one): with the server's, where the
    /// machine's CPU goes. Equal to `cpu_per_request` for a server in this process.
    pub generator_cpu_per_request: Option<Duration>,
    /// The resident set (KiB) once a second from the start of the measured window: seconds
    /// since that start, and the size.
    pub rss_series: Vec<(u64, u64)>,
    /// Answers a second in each slice of the run, in order (one for an uninterleaved run): with
    /// [`Interleaved`], slice `i` of every target ran in the same round, close in time.
    pub slice_rps: Vec<f64>,
}

impl LoadReport {
    /// How much the resident set grew between the sample at `after` seconds into the measured
    /// window and the end of it (KiB; negative when it shrank). `None` when the run was shorter.
    pub fn rss_growth_after(&self, after: u64) -> Option<i64> {
        let (_, at) = self.rss_series.iter().find(|(t, _)| *t >= after)?;
        Some(self.rss_end_kib as i64 - *at as i64)
    }
}

/// Whose resident set a run samples: the server's process, whatever runs the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampled {
    /// This process (a server in the generator's own process).
    ThisProcess,
    /// Another process, by pid (a server started as a child).
    Process(u32),
}

/// One server to load: where it listens, what to send it, how to judge an answer, and whose
/// resident set and CPU time to sample.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its name in the report.
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The requests, taken round-robin.
    pub requests: Arc<Vec<PreparedRequest>>,
    /// Whether an answer counts as good.
    pub check: fn(http::StatusCode, &[u8]) -> bool,
    /// The server's process.
    pub sampled: Sampled,
}

/// Runs `requests` against `addr` and reports, sampling the resident set of `sampled`. `check`
/// decides whether an answer counts as good.
pub async fn run(
    name: &str,
    addr: SocketAddr,
    requests: Arc<Vec<PreparedRequest>>,
    config: LoadConfig,
    check: fn(http::StatusCode, &[u8]) -> bool,
    sampled: Sampled,
) -> LoadReport {
    let target = Target {
        name: name.to_owned(),
        addr,
        requests,
        check,
        sampled,
    };
    report(
        name,
        vec![measure(&target, config, &AtomicUsize::new(0)).await],
    )
}

/// An interleaved run: each round gives each target a slice of load, one after the other.
/// Background load on a shared machine then weighs on every target alike, so the ratios between
/// them hold even when the absolute figures drift. Each round may load a fresh process of every
/// target (new address, new pid); the slices of target `i` are merged into one report however
/// many processes served them.
///
/// A process's speed is partly luck: where its memory landed, how its threads were placed. On
/// the 2-core machine the same echo bot binary, in two processes loaded in turn through one run,
/// has served 7 % apart. One process per target gives one draw of that luck; a fresh process per
/// round averages as many draws as there are rounds.
#[derive(Debug, Default)]
pub struct Interleaved {
    /// One record per target, in the first round's order.
    targets: Vec<TargetSlices>,
}

/// What an interleaved run keeps of one target from round to round.
#[derive(Debug)]
struct TargetSlices {
    /// As the first round named it.
    name: String,
    /// In the rounds' order.
    slices: Vec<Slice>,
    /// Where the next slice starts in the target's requests: a slice starting at the first
    /// request would send the ones already sent, and a callback's dedupe store would answer
    /// them from memory.
    cursor: AtomicUsize,
}

impl Interleaved {
    /// A run with no round measured yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One round: `slice.warmup`, then `slice.duration` measured, for each target in turn.
    ///
    /// # Panics
    /// When `targets` is not as long as in the first round.
    pub async fn round(&mut self, targets: &[Target], slice: LoadConfig) {
        if self.targets.is_empty() {
            self.targets = targets
                .iter()
                .map(|t| TargetSlices {
                    name: t.name.clone(),
                    slices: Vec::new(),
                    cursor: AtomicUsize::new(0),
                })
                .collect();
        }
        assert_eq!(
            targets.len(),
            self.targets.len(),
            "every round loads the same targets"
        );
        for (target, record) in targets.iter().zip(&mut self.targets) {
            let taken = measure(target, slice, &record.cursor).await;
            record.slices.push(taken);
        }
    }

    /// One report per target, in the order the rounds loaded them.
    pub fn finish(self) -> Vec<LoadReport> {
        self.targets
            .into_iter()
            .map(|record| report(&record.name, record.slices))
            .collect()
    }
}

/// What one stretch of load measured, before it becomes a report.
#[derive(Debug, Default)]
struct Slice {
    latencies: Vec<u32>,
    errors: u64,
    measured: Duration,
    rss_start_kib: u64,
    rss_peak_kib: u64,
    rss_end_kib: u64,
    /// One sample a second: seconds into the slice, KiB.
    rss_series: Vec<(u64, u64)>,
    cpu: Option<Duration>,
    generator_cpu: Option<Duration>,
}

/// One slice of load on `target`, taking requests from `cursor` on.
async fn measure(target: &Target, config: LoadConfig, cursor: &AtomicUsize) -> Slice {
    assert!(
        !target.requests.is_empty(),
        "a load run needs at least one request"
    );
    let sampled = target.sampled;
    let next = Arc::new(AtomicUsize::new(cursor.load(Ordering::Relaxed)));
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let stop_at = measure_from + config.duration;
    // Samples the resident set every 250 ms of the measured window, to show growth under load,
    // and keeps one sample a second as the series.
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let cpu_start = cpu_time_of(sampled);
        let generator_start = cpu_time_of(Sampled::ThisProcess);
        let first = resident_kib_of(sampled);
        let mut peak = first;
        let mut series = vec![(0, first)];
        let mut tick = 0u64;
        while Instant::now() < stop_at {
            tokio::time::sleep(Duration::from_millis(250)).await;
            tick += 1;
            let now = resident_kib_of(sampled);
            peak = peak.max(now);
            if tick.is_multiple_of(4) {
                series.push((tick / 4, now));
            }
        }
        let spent = |start: Option<Duration>, of: Sampled| {
            start.zip(cpu_time_of(of)).map(|(a, b)| b.saturating_sub(a))
        };
        Slice {
            rss_start_kib: first,
            rss_peak_kib: peak,
            rss_end_kib: resident_kib_of(sampled),
            rss_series: series,
            cpu: spent(cpu_start, sampled),
            generator_cpu: spent(generator_start, Sampled::ThisProcess),
            ..Slice::default()
        }
    });
    let mut workers = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        let requests = Arc::clone(&target.requests);
        let next = Arc::clone(&next);
        let (addr, check) = (target.addr, target.check);
        workers.push(tokio::spawn(async move {
            connection_loop(
                addr,
                &requests,
                &next,
                usize::MAX,
                measure_from,
                stop_at,
                check,
            )
            .await
        }));
    }
    let mut latencies: Vec<u32> = Vec::new();
    let mut errors = 0u64;
    for worker in workers {
        if let Ok((mut lat, err)) = worker.await {
            latencies.append(&mut lat);
            errors += err;
        } else {
            errors += 1;
        }
    }
    cursor.store(next.load(Ordering::Relaxed), Ordering::Relaxed);
    let sampled = sampler.await.unwrap_or_default();
    Slice {
        latencies,
        errors,
        measured: config.duration,
        ..sampled
    }
}

/// Merges the slices of one target into its report.
fn report(name: &str, slices: Vec<Slice>) -> LoadReport {
    let mut latencies: Vec<u32> = Vec::new();
    let (mut errors, mut measured) = (0u64, Duration::ZERO);
    let (mut cpu, mut generator_cpu) = (Some(Duration::ZERO), Some(Duration::ZERO));
    let mut rss_series = Vec::new();
    let (rss_start_kib, rss_end_kib) = (
        slices.first().map_or(0, |s| s.rss_start_kib),
        slices.last().map_or(0, |s| s.rss_end_kib),
    );
    let mut rss_peak_kib = 0;
    let mut slice_rps = Vec::with_capacity(slices.len());
    for mut slice in slices {
        let answered = slice.latencies.len() as u64 + slice.errors;
        slice_rps.push(answered as f64 / slice.measured.as_secs_f64().max(f64::EPSILON));
        let offset = measured.as_secs();
        // A later slice's first sample repeats the previous slice's last second.
        let skip = usize::from(offset > 0);
        rss_series.extend(
            slice
                .rss_series
                .iter()
                .skip(skip)
                .map(|&(t, kib)| (offset + t, kib)),
        );
        latencies.append(&mut slice.latencies);
        errors += slice.errors;
        measured += slice.measured;
        rss_peak_kib = rss_peak_kib.max(slice.rss_peak_kib);
        cpu = cpu.zip(slice.cpu).map(|(a, b)| a + b);
        generator_cpu = generator_cpu.zip(slice.generator_cpu).map(|(a, b)| a + b);
    }
    latencies.sort_unstable();
    let pct = |p: f64| percentile(&latencies, p);
    let requests = latencies.len() as u64 + errors;
    LoadReport {
        name: name.to_owned(),
        requests,
        errors,
        rps: requests as f64 / measured.as_secs_f64().max(f64::EPSILON),
        p50: pct(0.50),
        p99: pct(0.99),
        p999: pct(0.999),
        rss_start_kib,
        rss_peak_kib,
        rss_end_kib,
        rss_series,
        slice_rps,
        cpu_per_request: per_request(cpu, requests),
        generator_cpu_per_request: per_request(generator_cpu, requests),
    }
}

/// The `p` quantile (0 to 1) of sorted latencies in nanoseconds; zero when there are none.
fn percentile(sorted: &[u32], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    Duration::from_nanos(u64::from(sorted[idx]))
}

/// CPU time spread over the requests answered.
fn per_request(cpu: Option<Duration>, requests: u64) -> Option<Duration> {
    let requests = u32::try_from(requests).unwrap_or(u32::MAX);
    cpu.filter(|_| requests > 0).map(|cpu| cpu / requests)
}

/// Sends exactly `total` requests (taken round-robin from `requests`) over `connections`
/// keep-alive connections, each sending the next as soon as the previous answer arrived: a soak.
/// Every request is measured (no warm-up); the resident set is sampled every 250 ms from the
/// first request to the last. The report's latencies cost the generator 4 bytes a request.
pub async fn run_count(
    name: &str,
    addr: SocketAddr,
    requests: Arc<Vec<PreparedRequest>>,
    connections: usize,
    total: usize,
    check: fn(http::StatusCode, &[u8]) -> bool,
) -> LoadReport {
    assert!(
        !requests.is_empty(),
        "a load run needs at least one request"
    );
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let never = start + Duration::from_secs(365 * 24 * 3600);
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let first = resident_kib();
            let mut peak = first;
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                peak = peak.max(resident_kib());
            }
            (first, peak)
        })
    };
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let requests = Arc::clone(&requests);
        let next = Arc::clone(&next);
        workers.push(tokio::spawn(async move {
            connection_loop(addr, &requests, &next, total, start, never, check).await
        }));
    }
    let mut latencies: Vec<u32> = Vec::with_capacity(total);
    let mut errors = 0u64;
    for worker in workers {
        if let Ok((lat, err)) = worker.await {
            latencies.extend_from_slice(&lat);
            errors += err;
        } else {
            errors += 1;
        }
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let (rss_start_kib, peak) = sampler.await.unwrap_or_default();
    let rss_end_kib = resident_kib();
    report(
        name,
        vec![Slice {
            latencies,
            errors,
            measured: elapsed,
            rss_start_kib,
            rss_peak_kib: peak.max(rss_end_kib),
            rss_end_kib,
            ..Slice::default()
        }],
    )
}

/// One connection: send, await, record, repeat until `stop_at` or until `limit` requests were
/// taken by all connections together. Reconnects after a failure.
async fn connection_loop(
    addr: SocketAddr,
    requests: &[PreparedRequest],
    next: &AtomicUsize,
    limit: usize,
    measure_from: Instant,
    stop_at: Instant,
    check: fn(http::StatusCode, &[u8]) -> bool,
) -> (Vec<u32>, u64) {
    let mut latencies = Vec::with_capacity(1 << 16);
    let mut errors = 0u64;
    'reconnect: while Instant::now() < stop_at {
        let Ok(stream) = TcpStream::connect(addr).await else {
            if Instant::now() >= measure_from {
                errors += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await
        else {
            errors += 1;
            continue;
        };
        tokio::spawn(conn);
        loop {
            let now = Instant::now();
            if now >= stop_at {
                break 'reconnect;
            }
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= limit {
                break 'reconnect;
            }
            let prepared = &requests[index % requests.len()];
            let mut builder = http::Request::builder()
                .method(prepared.method.clone())
                .uri(prepared.path_and_query.as_str())
                .header(http::header::HOST, addr.to_string());
            if let Some(ct) = prepared.content_type {
                builder = builder.header(http::header::CONTENT_TYPE, ct);
            }
            let Ok(request) = builder.body(Full::new(prepared.body.clone())) else {
                errors += 1;
                continue;
            };
            let sent = Instant::now();
            let outcome = match sender.send_request(request).await {
                Ok(response) => {
                    let status = response.status();
                    match response.into_body().collect().await {
                        Ok(body) => Some(check(status, &body.to_bytes())),
                        Err(_) => None,
                    }
                }
                Err(_) => None,
            };
            let elapsed = sent.elapsed();
            let measured = sent >= measure_from;
            match outcome {
                Some(true) if measured => {
                    latencies.push(u32::try_from(elapsed.as_nanos()).unwrap_or(u32::MAX));
                }
                Some(true) => {}
                Some(false) if measured => errors += 1,
                Some(false) => {}
                None => {
                    if measured {
                        errors += 1;
                    }
                    continue 'reconnect;
                }
            }
        }
    }
    (latencies, errors)
}

/// The resident set size of this process in KiB, from `/proc/self/status` (0 elsewhere).
pub fn resident_kib() -> u64 {
    resident_kib_of(Sampled::ThisProcess)
}

/// The resident set size of `sampled` in KiB, from `/proc/<pid>/status` (0 elsewhere, or once
/// the process is gone).
pub fn resident_kib_of(sampled: Sampled) -> u64 {
    let path = match sampled {
        Sampled::ThisProcess => "/proc/self/status".to_owned(),
        Sampled::Process(pid) => format!("/proc/{pid}/status"),
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User plus system CPU time of `sampled` so far, from `/proc/<pid>/stat` (`None` elsewhere).
pub fn cpu_time_of(sampled: Sampled) -> Option<Duration> {
    let path = match sampled {
        Sampled::ThisProcess => "/proc/self/stat".to_owned(),
        Sampled::Process(pid) => format!("/proc/{pid}/stat"),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces: count fields from its closing parenthesis. After it,
    // utime and stime are the 12th and 13th (fields 14 and 15 of proc(5)), in clock ticks.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // Linux reports ticks of USER_HZ, which is 100 on every architecture it supports.
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bare servers on loopback, fresh for one round, as the harness starts its servers.
    async fn fresh_targets(names: [&str; 2]) -> Vec<Target> {
        let requests = Arc::new(vec![PreparedRequest::post("/", "text/xml", "<xml/>")]);
        let mut targets = Vec::new();
        for name in names {
            targets.push(Target {
                name: name.to_owned(),
                addr: crate::bare::start(b"ok").await.expect("a loopback port"),
                requests: Arc::clone(&requests),
                check: |status, body| status.is_success() && body == b"ok",
                sampled: Sampled::ThisProcess,
            });
        }
        targets
    }

    /// A slice of `duration` over one connection, measured from the start.
    fn one_connection_for(duration: Duration) -> LoadConfig {
        LoadConfig {
            connections: 1,
            duration,
            warmup: Duration::ZERO,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rounds_of_fresh_servers_merge_into_one_report_per_target() {
        let slice = one_connection_for(Duration::from_millis(100));
        let mut run = Interleaved::new();
        run.round(&fresh_targets(["first", "second"]).await, slice)
            .await;
        // New servers, new addresses; the reports keep the first round's names and order.
        run.round(&fresh_targets(["renamed", "ignored"]).await, slice)
            .await;
        let reports = run.finish();
        let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["first", "second"]);
        for report in &reports {
            assert_eq!(report.slice_rps.len(), 2, "one slice a round");
            assert!(report.slice_rps.iter().all(|&rps| rps > 0.0));
            assert_eq!(report.errors, 0);
            assert!(report.requests > 0);
        }
    }

    #[tokio::test]
    #[should_panic(expected = "every round loads the same targets")]
    async fn a_round_with_other_targets_is_refused() {
        let slice = one_connection_for(Duration::from_millis(20));
        let mut run = Interleaved::new();
        let targets = fresh_targets(["a", "b"]).await;
        run.round(&targets, slice).await;
        run.round(&targets[..1], slice).await;
    }
}
