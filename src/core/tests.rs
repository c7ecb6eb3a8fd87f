//! End-to-end tests of the core: encode generated frames, decode them back with FFmpeg, compare.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ffmpeg_next as ff;

use super::*;

/// Deterministic test frames, NCHW: gradients, a moving saturated square, texture and a little noise.
pub(super) fn nchw_frames(n: usize, h: usize, w: usize) -> Vec<u8> {
    let mut data = vec![0u8; n * 3 * h * w];
    let mut seed = 0x2545_f491_u32;
    for f in 0..n {
        for y in 0..h {
            for x in 0..w {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let noise = (seed % 9) as i32 - 4;
                let in_square = (x + 2 * f) % w < w / 3 && y > h / 4 && y < h / 2;
                let tex = if (x / 2 + y / 2) % 2 == 0 { 12 } else { -12 };
                let rgb = if in_square {
                    [220, 40, 30]
                } else {
                    [(x * 255 / w) as i32 + tex, (y * 255 / h) as i32, ((x + y + 8 * f) % 256) as i32]
                };
                for c in 0..3 {
                    data[((f * 3 + c) * h + y) * w + x] = (rgb[c] + noise).clamp(0, 255) as u8;
                }
            }
        }
    }
    data
}

pub(super) fn nchw_to_nhwc(data: &[u8], n: usize, h: usize, w: usize, channels: usize) -> Vec<u8> {
    let mut out = vec![0u8; n * h * w * channels];
    for f in 0..n {
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    out[((f * h + y) * w + x) * channels + c] = data[((f * 3 + c) * h + y) * w + x];
                }
                if channels == 4 {
                    out[((f * h + y) * w + x) * channels + 3] = (x * 7 + y) as u8;
                    // ignored
                }
            }
        }
    }
    out
}

/// A converter for the frames of one source, by index (what the pipeline does batch by batch).
pub(super) struct SourceConverter<'a> {
    source: &'a dyn FrameSource,
    inner: Box<dyn FrameConverter>,
}

impl SourceConverter<'_> {
    pub(super) fn convert(&mut self, index: usize, dst: &mut ff::frame::Video) -> Result<()> {
        self.inner.convert(self.source.frame(index), dst)
    }
}

/// `source.converter(format)`: the source made ready to read, and a converter for its device.
pub(super) trait ConvertSource {
    fn converter(&self, format: &FrameFormat) -> Result<SourceConverter<'_>>;
}

impl<T: FrameSource> ConvertSource for T {
    fn converter(&self, format: &FrameFormat) -> Result<SourceConverter<'_>> {
        self.prepare()?;
        let inner = pipeline::converter_for(self.device(), self.geometry().input_pixels(), format)?;
        Ok(SourceConverter { source: self, inner })
    }
}

pub(super) fn host(data: Vec<u8>, shape: [i64; 4], layout: Layout) -> HostFrames {
    HostFrames::new(Arc::new(data), shape, layout).unwrap()
}

pub(super) fn settings(codec: &str, pix: &str, extra: &[(&str, OptionValue)]) -> EncodeSettings {
    EncodeSettings {
        codec: Some(codec.into()),
        pixel_format: Some(pix.into()),
        crf: None,
        preset: None,
        extra: extra.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    }
}

fn s(v: &str) -> OptionValue {
    OptionValue::Str(v.into())
}

pub(super) fn encode_to_memory(
    source: Arc<dyn FrameSource>,
    rate: f64,
    format: &str,
    settings: &EncodeSettings,
) -> Result<(EncodeSummary, Vec<u8>)> {
    encode_to_memory_with_audio(source, rate, format, settings, None)
}

/// [`encode_to_memory`] with an audio track.
pub(super) fn encode_to_memory_with_audio(
    source: Arc<dyn FrameSource>,
    rate: f64,
    format: &str,
    settings: &EncodeSettings,
    audio: Option<AudioInput>,
) -> Result<(EncodeSummary, Vec<u8>)> {
    let mut summary = encode(
        source,
        FrameRate::from_f64(rate).unwrap(),
        Container::resolve(format).unwrap(),
        settings,
        audio,
        &Unwatched,
        || Ok(Box::new(MemorySink::new())),
    )?;
    match std::mem::replace(&mut summary.output, SinkOutput::Streamed) {
        SinkOutput::Memory(bytes) => Ok((summary, bytes)),
        other => panic!("expected memory output, got {other:?}"),
    }
}

pub(super) fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "framecodec-core-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Decoded frames as planes of yuv444p (no conversion happens when the stream is yuv444p).
struct Decoded {
    planes: Vec<[Vec<u8>; 3]>,
    pts: Vec<i64>,
    time_base: ff::Rational,
    avg_frame_rate: ff::Rational,
    color_space: ff::color::Space,
    color_range: ff::color::Range,
}

/// Decodes every frame of the best video stream, handing each to `each`; returns the stream's decoder
/// and time base / frame rate.
fn decode_frames(
    path: &Path,
    mut each: impl FnMut(&ff::frame::Video),
) -> (ff::decoder::Video, ff::Rational, ff::Rational) {
    ff::init().unwrap();
    let mut input = ff::format::input(path).unwrap();
    let stream = input.streams().best(ff::media::Type::Video).unwrap();
    let (index, time_base, avg_frame_rate) = (stream.index(), stream.time_base(), stream.avg_frame_rate());
    let mut decoder =
        ff::codec::context::Context::from_parameters(stream.parameters()).unwrap().decoder().video().unwrap();
    let mut frame = ff::frame::Video::empty();
    let mut take = |decoder: &mut ff::decoder::Video| {
        while decoder.receive_frame(&mut frame).is_ok() {
            each(&frame);
        }
    };
    for (s, packet) in input.packets() {
        if s.index() == index {
            decoder.send_packet(&packet).unwrap();
            take(&mut decoder);
        }
    }
    decoder.send_eof().unwrap();
    take(&mut decoder);
    (decoder, time_base, avg_frame_rate)
}

/// A plane of a decoded frame, cropped to its visible size (empty if the format has no such plane).
fn plane_of(frame: &ff::frame::Video, i: usize) -> Vec<u8> {
    if i >= frame.planes() {
        return Vec::new();
    }
    // SAFETY: a pure function of the format and width: the bytes of one row of plane `i`.
    let row_bytes = unsafe { ff::ffi::av_image_get_linesize(frame.format().into(), frame.width() as i32, i as i32) };
    let (w, h, stride) = (row_bytes.max(0) as usize, frame.plane_height(i) as usize, frame.stride(i));
    (0..h).flat_map(|y| frame.data(i)[y * stride..y * stride + w].to_vec()).collect()
}

fn decode(path: &Path) -> Decoded {
    let (mut planes, mut pts) = (Vec::new(), Vec::new());
    let (decoder, time_base, avg_frame_rate) = decode_frames(path, |frame| {
        assert!(
            matches!(frame.format(), ff::format::Pixel::YUV444P | ff::format::Pixel::YUVJ444P),
            "tests decode yuv444p streams"
        );
        planes.push([plane_of(frame, 0), plane_of(frame, 1), plane_of(frame, 2)]);
        pts.push(frame.pts().unwrap_or(-1));
    });
    Decoded {
        planes,
        pts,
        time_base,
        avg_frame_rate,
        color_space: decoder.color_space(),
        color_range: decoder.color_range(),
    }
}

/// Every decoded frame's planes (any planar format), cropped to their visible size.
fn decode_any(path: &Path) -> Vec<[Vec<u8>; 3]> {
    let mut out = Vec::new();
    decode_frames(path, |frame| out.push([plane_of(frame, 0), plane_of(frame, 1), plane_of(frame, 2)]));
    out
}

/// Decoded yuv planes of an encoded file held in memory.
pub(super) fn decode_planes(bytes: &[u8], ext: &str) -> Vec<[Vec<u8>; 3]> {
    decode_any(&write_temp(bytes, ext))
}

/// A file in its own temporary directory, removed (with the directory) when dropped.
struct TempFile(PathBuf);

impl std::ops::Deref for TempFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempFile {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn write_temp(bytes: &[u8], ext: &str) -> TempFile {
    let path = temp_dir("dec").join(format!("v.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    TempFile(path)
}

/// Max |decoded - reference| over Y, U, V of every pixel of every frame.
fn max_error_vs_reference(data: &[u8], n: usize, h: usize, w: usize, decoded: &Decoded, spec: ColorSpec) -> f64 {
    assert_eq!(decoded.planes.len(), n);
    let mut worst: f64 = 0.0;
    for f in 0..n {
        for i in 0..h * w {
            let px = |c: usize| data[(f * 3 + c) * h * w + i];
            let (y, u, v) = spec.reference_yuv(px(0), px(1), px(2));
            for (plane, want) in [y, u, v].into_iter().enumerate() {
                worst = worst.max((decoded.planes[f][plane][i] as f64 - want).abs());
            }
        }
    }
    worst
}

const LOSSLESS_444: [(&str, OptionValue); 1] = [("qp", OptionValue::Num(0.0))];

#[test]
fn lossless_encode_matches_bt709_limited_reference() {
    let (n, h, w) = (4, 48, 64);
    let data = nchw_frames(n, h, w);
    let frames = host(data.clone(), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let (summary, bytes) =
        encode_to_memory(Arc::new(frames.clone()), 30.0, "mkv", &settings("libx264", "yuv444p", &LOSSLESS_444))
            .unwrap();
    assert_eq!(
        (summary.format.as_str(), summary.codec.as_str(), summary.pixel_format.as_str()),
        ("matroska", "libx264", "yuv444p")
    );
    assert_eq!(summary.frames, n as u64);
    assert_eq!(summary.bytes, bytes.len() as u64);
    let decoded = decode(&write_temp(&bytes, "mkv"));
    assert_eq!(decoded.color_space, ff::color::Space::BT709);
    assert_eq!(decoded.color_range, ff::color::Range::MPEG);
    let err = max_error_vs_reference(&data, n, h, w, &decoded, ColorSpec::default());
    assert!(err <= 1.5, "max error vs BT.709 limited reference: {err}");
}

#[test]
fn colorspace_and_range_options_change_conversion_and_tags() {
    let (n, h, w) = (2, 32, 32);
    let data = nchw_frames(n, h, w);
    let frames = host(data.clone(), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let extra = [("qp", OptionValue::Num(0.0)), ("colorspace", s("bt470bg")), ("color_range", s("pc"))];
    let (_, bytes) =
        encode_to_memory(Arc::new(frames.clone()), 25.0, "mkv", &settings("libx264", "yuv444p", &extra)).unwrap();
    let decoded = decode(&write_temp(&bytes, "mkv"));
    assert_eq!(decoded.color_space, ff::color::Space::BT470BG);
    assert_eq!(decoded.color_range, ff::color::Range::JPEG);
    let bt601_full = ColorSpec { matrix: ColorMatrix::Bt470bg, range: ColorRange::Full };
    let err = max_error_vs_reference(&data, n, h, w, &decoded, bt601_full);
    assert!(err <= 1.5, "max error vs BT.601 full reference: {err}");
    // And it really differs from the default conversion.
    assert!(max_error_vs_reference(&data, n, h, w, &decoded, ColorSpec::default()) > 5.0);
}

#[test]
fn nchw_nhwc_and_rgba_inputs_encode_identically() {
    let (n, h, w) = (3, 24, 40);
    let nchw = nchw_frames(n, h, w);
    let s = settings("libx264", "yuv444p", &[("qp", OptionValue::Num(0.0)), ("threads", OptionValue::Num(1.0))]);
    let a = encode_to_memory(
        Arc::new(host(nchw.clone(), [n as i64, 3, h as i64, w as i64], Layout::Nchw)),
        30.0,
        "mkv",
        &s,
    )
    .unwrap()
    .1;
    let rgb = nchw_to_nhwc(&nchw, n, h, w, 3);
    let b = encode_to_memory(Arc::new(host(rgb, [n as i64, h as i64, w as i64, 3], Layout::Nhwc)), 30.0, "mkv", &s)
        .unwrap()
        .1;
    let rgba = nchw_to_nhwc(&nchw, n, h, w, 4);
    let c = encode_to_memory(Arc::new(host(rgba, [n as i64, h as i64, w as i64, 4], Layout::Nhwc)), 30.0, "mkv", &s)
        .unwrap()
        .1;
    let planes = |bytes: &[u8]| decode(&write_temp(bytes, "mkv")).planes;
    assert!(planes(&a) == planes(&b), "NCHW and NHWC RGB decode to the same frames");
    assert!(planes(&a) == planes(&c), "NCHW and NHWC RGBA decode to the same frames");
}

#[test]
fn ntsc_rate_gives_exact_timestamps_in_mp4() {
    let (n, h, w) = (10, 16, 16);
    let frames = host(nchw_frames(n, h, w), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let (_, bytes) =
        encode_to_memory(Arc::new(frames.clone()), 29.97, "mp4", &settings("libx264", "yuv444p", &[])).unwrap();
    let decoded = decode(&write_temp(&bytes, "mp4"));
    assert_eq!(decoded.avg_frame_rate, ff::Rational::new(30000, 1001));
    assert_eq!(decoded.planes.len(), n);
    // Every frame one tick of 1001/30000 s apart.
    let tick = decoded.time_base.denominator() as i64 * 1001 / (30000 * decoded.time_base.numerator() as i64);
    let mut pts = decoded.pts.clone();
    pts.sort();
    for pair in pts.windows(2) {
        assert_eq!(pair[1] - pair[0], tick, "pts {:?} in {:?}", pts, decoded.time_base);
    }
}

#[test]
fn file_sink_writes_dest_and_leaves_no_temp() {
    let dir = temp_dir("file");
    let dest = dir.join("out.mp4");
    let frames = host(nchw_frames(3, 16, 16), [3, 3, 16, 16], Layout::Nchw);
    let summary = encode(
        Arc::new(frames.clone()),
        FrameRate::from_f64(30.0).unwrap(),
        Container::from_path(&dest).unwrap(),
        &EncodeSettings::default(),
        None,
        &Unwatched,
        || Ok(Box::new(FileSink::create(&dest)?)),
    )
    .unwrap();
    assert!(!dest.exists(), "the file reaches dest only when committed");
    let SinkOutput::File(pending) = summary.output else { panic!("a file") };
    assert_eq!(pending.commit().unwrap(), dest);
    assert_eq!(summary.bytes, std::fs::metadata(&dest).unwrap().len());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

fn encode_error(format: &str, settings: &EncodeSettings) -> EncodeError {
    let frames = host(nchw_frames(2, 16, 16), [2, 3, 16, 16], Layout::Nchw);
    let sink_opened = std::cell::Cell::new(false);
    let err = encode(
        Arc::new(frames.clone()),
        FrameRate::from_f64(30.0).unwrap(),
        Container::resolve(format).unwrap(),
        settings,
        None,
        &Unwatched,
        || {
            sink_opened.set(true);
            Ok(Box::new(MemorySink::new()))
        },
    )
    .expect_err("encode should fail");
    if err.code != ErrorCode::Encode {
        assert!(!sink_opened.get(), "{:?} must be found before any output is created", err.code);
    }
    err
}

#[test]
fn option_errors_have_codes_and_name_the_problem() {
    let base = || settings("libx264", "yuv420p", &[]);
    let mut s = base();
    s.crf = Some(100.0);
    let e = encode_error("mp4", &s);
    assert_eq!(e.code, ErrorCode::OutOfRange);
    assert!(e.message.contains("crf") && e.message.contains("51"), "{}", e.message);

    let mut s = base();
    s.crf = Some(18.5);
    s.preset = Some(s_("superduper"));
    let e = encode_error("mp4", &s);
    assert_eq!(e.code, ErrorCode::InvalidOption);
    assert!(e.message.contains("ultrafast") && e.message.contains("veryslow"), "{}", e.message);

    let mut s = settings("libvpx-vp9", "yuv420p", &[]);
    s.preset = Some(s_("fast"));
    let e = encode_error("webm", &s);
    assert_eq!(e.code, ErrorCode::InvalidOption);
    assert!(e.message.contains("libvpx-vp9"), "{}", e.message);

    let mut s = settings("mpeg4", "yuv420p", &[]);
    s.crf = Some(20.0);
    let e = encode_error("avi", &s);
    assert_eq!(e.code, ErrorCode::InvalidOption);
    assert!(e.message.contains("mpeg4"), "{}", e.message);

    let e = encode_error("mp4", &settings("libx264", "yuv420p", &[("notAnOption", OptionValue::Num(1.0))]));
    assert_eq!(e.code, ErrorCode::InvalidOption);
    assert!(e.message.contains("notAnOption"), "{}", e.message);

    let e = encode_error("mp4", &settings("libx264", "yuv420p", &[("g", s_("abc"))]));
    assert_eq!(e.code, ErrorCode::InvalidOption, "{}", e.message);

    let e = encode_error("mp4", &settings("libx264", "yuv420p", &[("tune", s_("nope"))]));
    assert_eq!(e.code, ErrorCode::InvalidOption);
    assert!(e.message.contains("zerolatency"), "{}", e.message);

    let e = encode_error("mp4", &settings("libx264", "yuv444p", &[("profile", s_("baseline"))]));
    assert_eq!(e.code, ErrorCode::Encode);
    assert!(e.message.contains("libx264"), "{}", e.message);

    let e = encode_error("mp4", &settings("h264_nvenc", "yuv420p", &[]));
    assert_eq!(e.code, ErrorCode::EncoderUnavailable, "{}", e.message);

    let e = encode_error("mp4", &settings("libx264", "yuv420p", &[("movflags", s_("+nonsense"))]));
    assert_eq!(e.code, ErrorCode::InvalidOption, "{}", e.message);
    assert!(e.message.contains("faststart"), "lists the muxer's flags: {}", e.message);

    let e = encode_error("webm", &settings("libx264", "yuv420p", &[]));
    assert_eq!(e.code, ErrorCode::Encode);
    assert!(e.message.contains("webm"), "{}", e.message);
}

fn s_(v: &str) -> OptionValue {
    s(v)
}

#[test]
fn extra_options_reach_codec_and_muxer() {
    let (n, h, w) = (6, 16, 16);
    let frames = host(nchw_frames(n, h, w), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let extra = [
        ("g", OptionValue::Num(2.0)),
        ("bf", OptionValue::Num(0.0)),
        ("movflags", s("+frag_keyframe+empty_moov+default_base_moof")),
    ];
    let (_, bytes) =
        encode_to_memory(Arc::new(frames.clone()), 30.0, "mp4", &settings("libx264", "yuv444p", &extra)).unwrap();
    assert!(bytes.windows(4).any(|b| b == b"moof"), "fragmented mp4 has moof boxes");
    let path = write_temp(&bytes, "mp4");
    let mut input = ff::format::input(&path).unwrap();
    let keyframes = input.packets().filter(|(_, p)| p.is_key()).count();
    assert_eq!(keyframes, n / 2, "g=2 puts a keyframe every 2 frames");
}

struct Recorder {
    abort_after: Option<u64>,
    seen: Mutex<Vec<u64>>,
}

impl EncodeControl for Recorder {
    fn aborted(&self) -> bool {
        let seen = self.seen.lock().unwrap();
        self.abort_after.is_some_and(|n| seen.last().is_some_and(|&last| last >= n))
    }
    fn progress(&self, frames: u64, total: Option<u64>) {
        assert_eq!(total, Some(40));
        self.seen.lock().unwrap().push(frames);
    }
}

#[test]
fn progress_is_monotonic_and_ends_at_total() {
    let frames = host(nchw_frames(40, 16, 16), [40, 3, 16, 16], Layout::Nchw);
    let rec = Recorder { abort_after: None, seen: Mutex::new(vec![]) };
    encode(
        Arc::new(frames.clone()),
        FrameRate::from_f64(30.0).unwrap(),
        Container::resolve("mkv").unwrap(),
        &EncodeSettings::default(),
        None,
        &rec,
        || Ok(Box::new(MemorySink::new())),
    )
    .unwrap();
    let seen = rec.seen.lock().unwrap();
    assert!(seen.windows(2).all(|p| p[0] <= p[1]), "{seen:?}");
    assert_eq!(*seen.last().unwrap(), 40);
    assert!(seen.len() >= 10, "at least once per 10%: {seen:?}");
}

#[test]
fn abort_stops_the_encode_and_discards_the_file() {
    let dir = temp_dir("abort");
    let dest = dir.join("out.mp4");
    let frames = host(nchw_frames(40, 16, 16), [40, 3, 16, 16], Layout::Nchw);
    let rec = Recorder { abort_after: Some(10), seen: Mutex::new(vec![]) };
    let err = encode(
        Arc::new(frames.clone()),
        FrameRate::from_f64(30.0).unwrap(),
        Container::resolve("mp4").unwrap(),
        &EncodeSettings::default(),
        None,
        &rec,
        || Ok(Box::new(FileSink::create(&dest)?)),
    )
    .err()
    .unwrap();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert!(*rec.seen.lock().unwrap().last().unwrap() < 20, "stopped promptly");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no partial file");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn every_listed_container_takes_its_default_codec() {
    let frames = host(nchw_frames(3, 16, 16), [3, 3, 16, 16], Layout::Nchw);
    for (format, muxer, codec) in [
        ("mp4", "mp4", "libx264"),
        ("mov", "mov", "libx264"),
        ("mkv", "matroska", "libx264"),
        ("webm", "webm", "libvpx-vp9"),
        ("avi", "avi", "mpeg4"),
        ("flv", "flv", "flv"),
        ("gif", "gif", "gif"),
        ("ts", "mpegts", "mpeg2video"),
    ] {
        let (summary, bytes) =
            encode_to_memory(Arc::new(frames.clone()), 30.0, format, &EncodeSettings::default()).unwrap();
        assert_eq!((summary.format.as_str(), summary.codec.as_str()), (muxer, codec), "{format}");
        assert!(!bytes.is_empty());
    }
}

#[test]
fn faststart_moves_the_index_to_the_front_in_files_and_memory() {
    let (n, h, w) = (8, 16, 16);
    let frames = host(nchw_frames(n, h, w), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let faststart = settings("libx264", "yuv444p", &[("movflags", s("+faststart"))]);
    let (_, bytes) = encode_to_memory(Arc::new(frames.clone()), 30.0, "mp4", &faststart).unwrap();
    let pos = |b: &[u8], tag: &[u8]| b.windows(4).position(|x| x == tag).expect("box present");
    assert!(pos(&bytes, b"moov") < pos(&bytes, b"mdat"), "moov before mdat in memory");
    assert_eq!(decode(&write_temp(&bytes, "mp4")).planes.len(), n);

    let dir = temp_dir("faststart");
    let dest = dir.join("fast.mp4");
    let summary = encode(
        Arc::new(frames.clone()),
        FrameRate::from_f64(30.0).unwrap(),
        Container::from_path(&dest).unwrap(),
        &faststart,
        None,
        &Unwatched,
        || Ok(Box::new(FileSink::create(&dest)?)),
    )
    .unwrap();
    let SinkOutput::File(pending) = summary.output else { panic!("a file") };
    pending.commit().unwrap();
    let on_disk = std::fs::read(&dest).unwrap();
    assert!(pos(&on_disk, b"moov") < pos(&on_disk, b"mdat"), "moov before mdat on disk");
    assert_eq!(decode(&dest).planes.len(), n);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Conversion speed per input layout at 1080p (run: cargo test --release --no-default-features conversion_speed -- --ignored --nocapture).
#[test]
#[ignore]
fn conversion_speed() {
    let (h, w) = (1080usize, 1920usize);
    let n = 8;
    let nchw = nchw_frames(n, h, w);
    for (name, data, shape, layout) in [
        ("NCHW gbrp", nchw.clone(), [n as i64, 3, h as i64, w as i64], Layout::Nchw),
        ("NHWC rgb24", nchw_to_nhwc(&nchw, n, h, w, 3), [n as i64, h as i64, w as i64, 3], Layout::Nhwc),
        ("NHWC rgba", nchw_to_nhwc(&nchw, n, h, w, 4), [n as i64, h as i64, w as i64, 4], Layout::Nhwc),
    ] {
        let frames = host(data, shape, layout);
        let g = frames.geometry();
        let mut conv =
            Converter::new(g.input_pixels(), w, h, ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P, ColorSpec::default())
                .unwrap();
        let mut dst = ff::frame::Video::new(ff::format::Pixel::YUV420P, w as u32, h as u32);
        // Thread CPU time, so other load on the machine does not count.
        let cpu = || {
            let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
            t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
        };
        let reps = 40;
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = cpu();
            for i in 0..reps {
                conv.convert(&frames.picture(i % n), &mut dst).unwrap();
            }
            best = best.min((cpu() - start) / reps as f64);
        }
        let sws = Converter::Swscale(
            super::convert::swscale::SwsConverter::new(
                g.input_pixels(),
                w,
                h,
                ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
                ColorSpec::default(),
            )
            .unwrap(),
        );
        let mut sws = sws;
        let start = cpu();
        for i in 0..10 {
            sws.convert(&frames.picture(i % n), &mut dst).unwrap();
        }
        let sws_per = (cpu() - start) / 10.0;
        eprintln!(
            "{name} -> yuv420p: native {:.2} ms/frame CPU, swscale {:.2} ms/frame CPU",
            best * 1e3,
            sws_per * 1e3
        );
    }
}

#[test]
fn push_api_in_batches_encodes_like_the_whole_source() {
    // VideoWriter: open, write frames in any batches, finish: the same video as encode() of them all.
    let (n, h, w) = (7, 16, 24);
    let frames = host(nchw_frames(n, h, w), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let s = settings("libx264", "yuv444p", &[("qp", OptionValue::Num(0.0)), ("threads", OptionValue::Num(1.0))]);
    let (_, whole) = encode_to_memory(Arc::new(frames.clone()), 30.0, "mkv", &s).unwrap();
    let config = WriterConfig {
        width: w,
        height: h,
        input: InputPixels::PlanarRgb,
        frame_rate: FrameRate::from_f64(30.0).unwrap(),
        container: Container::resolve("mkv").unwrap(),
        settings: s,
        cuda_context: None,
        audio: None,
    };
    let mut writer = VideoWriter::open(&config, || Ok(Box::new(MemorySink::new()))).unwrap();
    for batch in [0..3, 3..4, 4..7] {
        for i in batch {
            writer.write(&frames.picture(i)).unwrap();
        }
    }
    assert_eq!(writer.frames(), n as u64);
    let SinkOutput::Memory(pushed) = writer.finish().unwrap().output else { panic!("memory output") };
    assert!(decode_planes(&pushed, "mkv") == decode_planes(&whole, "mkv"), "pushed frames decode like encode()'s");
}

/// The FFmpeg in this binary is the static build of scripts/ffmpeg/build.sh that ships (named by
/// .cargo/config.toml, see build.rs): its version and configure line are the build manifest's, and no
/// shared FFmpeg or codec library is loaded.
#[test]
fn linked_ffmpeg_is_the_static_build_that_ships() {
    let prefix = env!("FRAMECODEC_FFMPEG_PREFIX");
    let manifest = std::fs::read_to_string(Path::new(prefix).join("share/framecodec/manifest.json")).unwrap();
    let field = |key: &str| {
        let start =
            manifest.find(&format!("\"{key}\": \"")).unwrap_or_else(|| panic!("{key} in the manifest")) + key.len() + 5;
        manifest[start..start + manifest[start..].find('"').unwrap()].to_string()
    };
    // SAFETY: static NUL-terminated strings of libavutil / libavcodec.
    let (version, configuration) = unsafe {
        (
            std::ffi::CStr::from_ptr(ff::ffi::av_version_info()).to_string_lossy().into_owned(),
            std::ffi::CStr::from_ptr(ff::ffi::avcodec_configuration()).to_string_lossy().into_owned(),
        )
    };
    assert_eq!(version, field("version"), "FFmpeg's version is the manifest's");
    // (configure quotes the arguments that hold a comma)
    assert_eq!(
        configuration.replace('\'', ""),
        field("configure").replace("$PREFIX", prefix),
        "configured as the manifest says"
    );
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for lib in ["libavcodec", "libavformat", "libavutil", "libswscale", "libx264", "libx265", "libvpx", "libSvtAv1"] {
        assert!(!maps.contains(&format!("/{lib}")), "{lib} is linked in, not loaded as a shared library");
    }
}
