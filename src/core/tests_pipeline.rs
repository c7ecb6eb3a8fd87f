//! The push API of the core: a [`Pipeline`] fed batch by batch, as the JS `VideoWriter` feeds it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::tests::{host, nchw_frames, settings, temp_dir};
use super::*;

const RATE: f64 = 30.0;

fn spec(w: usize, h: usize, format: &str, settings: EncodeSettings) -> PipelineSpec {
    PipelineSpec {
        width: w,
        height: h,
        input: InputPixels::PlanarRgb,
        device: Device::Cpu,
        frame_rate: FrameRate::from_f64(RATE).unwrap(),
        container: Container::resolve(format).unwrap(),
        settings,
        audio: None,
    }
}

/// Frames `range` of NCHW `data` (frames of h × w) as a batch of their own, in memory of their own.
fn batch_of(data: &[u8], range: std::ops::Range<usize>, h: usize, w: usize) -> Arc<dyn FrameSource> {
    let frame = 3 * h * w;
    let bytes = data[range.start * frame..range.end * frame].to_vec();
    Arc::new(host(bytes, [range.len() as i64, 3, h as i64, w as i64], Layout::Nchw))
}

fn memory_bytes(summary: EncodeSummary) -> Vec<u8> {
    match summary.output {
        SinkOutput::Memory(bytes) => bytes,
        other => panic!("expected memory output, got {other:?}"),
    }
}

/// A sink that counts the bytes it was given, shared with the test.
struct CountingSink(Arc<AtomicUsize>, MemorySink);

impl Sink for CountingSink {
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.fetch_add(buf.len(), Ordering::SeqCst);
        self.1.write_all(buf)
    }
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.1.seek(pos)
    }
    fn seekable(&self) -> bool {
        true
    }
    fn finish(self: Box<Self>) -> std::io::Result<SinkOutput> {
        Box::new(self.1).finish()
    }
}

/// An abort flag and the progress reports seen.
#[derive(Default)]
struct Watch {
    abort: AtomicBool,
    seen: Mutex<Vec<(u64, Option<u64>)>>,
    read: Mutex<Vec<u64>>,
}

impl EncodeControl for Watch {
    fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }
    fn progress(&self, frames: u64, total: Option<u64>) {
        self.seen.lock().unwrap().push((frames, total));
    }
    fn batch_read(&self, id: u64) {
        self.read.lock().unwrap().push(id);
    }
}

#[test]
fn batches_of_any_size_give_the_one_shot_bytes() {
    // One encode path: the one-shot encode is the pipeline fed one batch, so feeding the same frames
    // in batches of 1, 3 and 2 must give the same bytes (x264 is deterministic at any thread count).
    let (n, h, w) = (9, 32, 48);
    let data = nchw_frames(n, h, w);
    let s = settings("libx264", "yuv420p", &[("preset", OptionValue::Str("fast".into()))]);
    let whole = encode(
        batch_of(&data, 0..n, h, w),
        FrameRate::from_f64(RATE).unwrap(),
        Container::resolve("mp4").unwrap(),
        &s,
        None,
        &Unwatched,
        || Ok(Box::new(MemorySink::new())),
    )
    .unwrap();
    assert_eq!(whole.frames, n as u64);
    let whole = memory_bytes(whole);

    let pipeline = Pipeline::open(&spec(w, h, "mp4", s), || Ok(Box::new(MemorySink::new()))).unwrap();
    let (feed, fed) = mpsc::channel();
    for (id, range) in [0..1, 1..2, 2..5, 5..7, 7..8, 8..9].into_iter().enumerate() {
        feed.send(Feed::Frames(Batch { frames: batch_of(&data, range, h, w), id: 10 + id as u64 })).unwrap();
    }
    feed.send(Feed::Close).unwrap();
    let watch = Watch::default();
    let summary = pipeline.run(fed, &watch, None).unwrap();
    assert_eq!(summary.frames, n as u64);
    assert_eq!(*watch.read.lock().unwrap(), vec![10, 11, 12, 13, 14, 15], "every batch reported read, in order");
    assert!(memory_bytes(summary) == whole, "batched frames give the one-shot's bytes");
}

#[test]
fn nothing_reaches_the_output_before_the_first_frame() {
    let (h, w) = (16, 16);
    let written = Arc::new(AtomicUsize::new(0));
    let sink = CountingSink(written.clone(), MemorySink::new());
    let pipeline = Pipeline::open(&spec(w, h, "mp4", EncodeSettings::default()), move || Ok(Box::new(sink))).unwrap();
    assert_eq!(written.load(Ordering::SeqCst), 0, "open writes nothing");
    let (feed, fed) = mpsc::channel();
    let data = nchw_frames(2, h, w);
    feed.send(Feed::Frames(Batch { frames: batch_of(&data, 0..1, h, w), id: 0 })).unwrap();
    let watch = Arc::new(Watch::default());
    let running = {
        let watch = watch.clone();
        std::thread::spawn(move || pipeline.run(fed, watch.as_ref(), None))
    };
    let started = Instant::now();
    while watch.read.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(written.load(Ordering::SeqCst) > 0, "the header goes out with the first frame");
    feed.send(Feed::Frames(Batch { frames: batch_of(&data, 1..2, h, w), id: 1 })).unwrap();
    feed.send(Feed::Close).unwrap();
    let summary = running.join().unwrap().unwrap();
    assert_eq!(summary.frames, 2);
    let seen = watch.seen.lock().unwrap().clone();
    assert_eq!(seen.last(), Some(&(2, None)), "the last report is every frame, with no total: {seen:?}");
    assert!(seen.windows(2).all(|p| p[0].0 <= p[1].0), "{seen:?}");
}

#[test]
fn closing_without_frames_is_invalid_state_and_leaves_no_file() {
    let dir = temp_dir("no-frames");
    let dest = dir.join("empty.mp4");
    let pipeline =
        Pipeline::open(&spec(16, 16, "mp4", EncodeSettings::default()), || Ok(Box::new(FileSink::create(&dest)?)))
            .unwrap();
    let (feed, fed) = mpsc::channel();
    feed.send(Feed::Close).unwrap();
    let err = pipeline.run(fed, &Unwatched, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidState);
    assert!(err.message.contains("no frames were written"), "{}", err.message);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no file, no temporary file");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_abort_while_waiting_for_frames_stops_promptly_and_discards_the_output() {
    let dir = temp_dir("idle-abort");
    let dest = dir.join("out.mp4");
    let (h, w) = (16, 16);
    let pipeline =
        Pipeline::open(&spec(w, h, "mp4", EncodeSettings::default()), || Ok(Box::new(FileSink::create(&dest)?)))
            .unwrap();
    let (feed, fed) = mpsc::channel();
    feed.send(Feed::Frames(Batch { frames: batch_of(&nchw_frames(3, h, w), 0..3, h, w), id: 0 })).unwrap();
    let watch = Arc::new(Watch::default());
    let running = {
        let watch = watch.clone();
        std::thread::spawn(move || pipeline.run(fed, watch.as_ref(), None))
    };
    std::thread::sleep(Duration::from_millis(200)); // the frames are encoded; the pipeline waits for more
    let aborted_at = Instant::now();
    watch.abort.store(true, Ordering::SeqCst);
    let err = running.join().unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert!(aborted_at.elapsed() < Duration::from_millis(500), "stopped {:?} after the abort", aborted_at.elapsed());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no partial file");
    drop(feed);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_feed_dropped_before_close_is_an_abort() {
    let dir = temp_dir("dropped-feed");
    let dest = dir.join("out.mkv");
    let (h, w) = (16, 16);
    let pipeline =
        Pipeline::open(&spec(w, h, "mkv", EncodeSettings::default()), || Ok(Box::new(FileSink::create(&dest)?)))
            .unwrap();
    let (feed, fed) = mpsc::channel();
    feed.send(Feed::Frames(Batch { frames: batch_of(&nchw_frames(2, h, w), 0..2, h, w), id: 0 })).unwrap();
    drop(feed);
    let err = pipeline.run(fed, &Unwatched, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no partial file");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn open_checks_every_setting_before_the_output_exists() {
    let dir = temp_dir("open-checks");
    let dest = dir.join("out.mp4");
    let bad = [
        settings("libx264", "yuv420p", &[("preset", OptionValue::Str("warp".into()))]),
        settings("libx264", "rgb48", &[]),
        settings("nope", "yuv420p", &[]),
        settings("libx264", "yuv420p", &[("not_an_option", OptionValue::Num(1.0))]),
    ];
    for s in bad {
        let opened = Pipeline::open(&spec(16, 16, "mp4", s), || Ok(Box::new(FileSink::create(&dest)?)));
        assert!(opened.is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing created for a refused setting");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn fragmented_mp4_starts_at_zero_and_cuts_a_fragment_each_second() {
    // 3 s at 30 fps with x264's default GOP (250 frames, longer than the clip): 3 fragments of 1 s,
    // not one, and an edit list so that frame 0 is presented at t = 0 despite the B-frame delay.
    let (n, h, w) = (90, 32, 32);
    let movflags = OptionValue::Str("+frag_keyframe+empty_moov+default_base_moof".into());
    let s = settings("libx264", "yuv420p", &[("movflags", movflags)]);
    let summary = encode(
        batch_of(&nchw_frames(n, h, w), 0..n, h, w),
        FrameRate::from_f64(RATE).unwrap(),
        Container::resolve("mp4").unwrap(),
        &s,
        None,
        &Unwatched,
        || Ok(Box::new(MemorySink::new())),
    )
    .unwrap();
    let bytes = memory_bytes(summary);
    let boxes = top_level_boxes(&bytes);
    assert_eq!(boxes.iter().filter(|b| *b == "moof").count(), 3, "{boxes:?}");
    assert_eq!(&boxes[..3], ["ftyp", "moov", "moof"], "{boxes:?}");
    assert!(bytes.windows(4).any(|b| b == b"elst"), "an edit list");
}

/// The top-level ISO-BMFF boxes of `bytes`, by type.
fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut boxes = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        boxes.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        if size < 8 {
            break;
        }
        at += size;
    }
    boxes
}
