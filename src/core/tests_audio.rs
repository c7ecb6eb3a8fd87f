//! The audio track in the core: one-shot and pushed, every default codec, timing.

use std::sync::Arc;

use super::tests::{encode_to_memory_with_audio, host, nchw_frames};
use super::*;

pub(super) fn tone(rate: u32, channels: u32, seconds: f64) -> Vec<f32> {
    let n = (rate as f64 * seconds).round() as usize;
    let mut out = Vec::with_capacity(n * channels as usize);
    for i in 0..n {
        for c in 0..channels {
            let f = 440.0 * (c + 1) as f64;
            out.push((0.5 * (2.0 * std::f64::consts::PI * f * i as f64 / rate as f64).sin()) as f32);
        }
    }
    out
}

/// Settings whose output is the same bytes run after run (matroska writes random IDs without bitexact).
fn exact(format: &str) -> EncodeSettings {
    let mut s = EncodeSettings::default();
    if format == "mkv" || format == "webm" {
        s.extra = vec![("fflags".into(), OptionValue::Str("+bitexact".into()))];
    }
    s
}

fn audio(rate: u32, channels: u32, codec: Option<&str>) -> AudioSettings {
    AudioSettings { sample_rate: rate, channels, codec: codec.map(String::from), bit_rate: None, extra: Vec::new() }
}

pub(super) fn encode_with_audio(
    format: &str,
    a: AudioSettings,
    samples: Vec<f32>,
    frames: usize,
) -> Result<(EncodeSummary, Vec<u8>)> {
    let (h, w) = (48, 64);
    let source = host(nchw_frames(frames, h, w), [frames as i64, 3, h as i64, w as i64], Layout::Nchw);
    let audio = AudioInput { settings: a, samples: Arc::new(samples) };
    encode_to_memory_with_audio(Arc::new(source), 30.0, format, &exact(format), Some(audio))
}

#[test]
fn every_default_container_takes_its_default_audio_codec() {
    for (format, codec) in [
        ("mp4", "aac"),
        ("mov", "aac"),
        ("mkv", "aac"),
        ("webm", "libopus"),
        ("avi", "libmp3lame"),
        ("ts", "aac"),
        ("flv", "libmp3lame"),
        ("nut", "libmp3lame"),
    ] {
        let (summary, bytes) = encode_with_audio(format, audio(48000, 2, None), tone(48000, 2, 1.0), 30).unwrap();
        assert_eq!(summary.audio_codec.as_deref(), Some(codec), "{format}");
        assert_eq!(summary.audio_samples, 48000, "{format}");
        assert!(bytes.len() > 1000, "{format}");
        if let Ok(dir) = std::env::var("FRAMECODEC_KEEP_AUDIO") {
            std::fs::write(format!("{dir}/a.{format}"), &bytes).unwrap();
        }
    }
}

fn pushed_with_audio(
    format: &str,
    a: AudioSettings,
    samples: &[f32],
    frames: usize,
    chunks: &[usize],
    audio_first: bool,
) -> Vec<u8> {
    let (h, w) = (48, 64);
    let data = nchw_frames(frames, h, w);
    let spec = PipelineSpec {
        width: w,
        height: h,
        input: InputPixels::PlanarRgb,
        device: Device::Cpu,
        frame_rate: FrameRate::from_f64(30.0).unwrap(),
        container: Container::resolve(format).unwrap(),
        settings: exact(format),
        audio: Some(a.clone()),
    };
    let pipeline = Pipeline::open(&spec, || Ok(Box::new(MemorySink::new()))).unwrap();
    let (feed, fed) = std::sync::mpsc::channel();
    let channels = a.channels as usize;
    let mut audio_chunks = Vec::new();
    let (mut at, mut k) = (0, 0);
    while at < samples.len() / channels {
        let n = chunks[k % chunks.len()].min(samples.len() / channels - at);
        audio_chunks.push(samples[at * channels..(at + n) * channels].to_vec());
        at += n;
        k += 1;
    }
    let frame = 3 * h * w;
    let mut id = 0;
    let mut send_audio = |chunk: Vec<f32>| {
        id += 1;
        feed.send(Feed::Audio(AudioChunk { samples: chunk, id })).unwrap();
    };
    if audio_first {
        audio_chunks.drain(..).for_each(&mut send_audio);
    }
    let per_frame = audio_chunks.len().div_ceil(frames.max(1));
    let mut chunks_left = audio_chunks.into_iter();
    for i in 0..frames {
        let source = host(data[i * frame..(i + 1) * frame].to_vec(), [1, 3, h as i64, w as i64], Layout::Nchw);
        feed.send(Feed::Frames(Batch { frames: Arc::new(source), id: 1000 + i as u64 })).unwrap();
        chunks_left.by_ref().take(per_frame).for_each(&mut send_audio);
    }
    chunks_left.for_each(&mut send_audio);
    feed.send(Feed::Close).unwrap();
    let summary = pipeline.run(fed, &Unwatched, None).unwrap();
    match summary.output {
        SinkOutput::Memory(bytes) => bytes,
        other => panic!("expected memory output, got {other:?}"),
    }
}

#[test]
fn audio_pushed_in_any_chunks_gives_the_one_shot_bytes() {
    // The FIFO makes the encoder's frames whatever the chunking, and the muxer interleaves by time: the
    // same samples give the same file, however and whenever they were written.
    for (format, rate, codec) in [("mp4", 48000, None), ("mkv", 44100, Some("libopus")), ("avi", 44100, None)] {
        let a = audio(rate, 2, codec);
        let samples = tone(rate, 2, 1.3);
        let (_, whole) = encode_with_audio(format, a.clone(), samples.clone(), 30).unwrap();
        for (chunks, first) in [(&[1usize][..], false), (&[7, 1000, 333, 4096][..], false), (&[5000][..], true)] {
            let pushed = pushed_with_audio(format, a.clone(), &samples, 30, chunks, first);
            assert!(
                pushed == whole,
                "{format} at {rate} Hz, chunks {chunks:?}, audio first {first}: not the one-shot bytes"
            );
        }
    }
}

#[test]
fn the_resampler_gives_the_same_samples_whatever_the_chunks() {
    use crate::core::convert::resample::Resampler;
    use ffmpeg_next::ffi;
    let input = tone(44100, 2, 0.5);
    let run = |chunks: &[usize]| {
        // SAFETY: a zeroed layout filled by FFmpeg with the default stereo layout.
        let mut layout: ffi::AVChannelLayout = unsafe { std::mem::zeroed() };
        unsafe { ffi::av_channel_layout_default(&mut layout, 2) };
        let mut r = Resampler::new(44100, &layout, ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT, 48000).unwrap();
        let (mut at, mut k) = (0, 0);
        while at < input.len() / 2 {
            let n = chunks[k % chunks.len()].min(input.len() / 2 - at);
            r.push(&input[at * 2..(at + n) * 2]).unwrap();
            at += n;
            k += 1;
        }
        r.flush().unwrap();
        let count = r.queued();
        let mut frame = ffmpeg_next::frame::Audio::empty();
        // SAFETY: a fresh frame given buffers for `count` packed stereo float samples.
        let out = unsafe {
            let raw = frame.as_mut_ptr();
            (*raw).format = ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT as i32;
            (*raw).nb_samples = count as i32;
            ffi::av_channel_layout_copy(&mut (*raw).ch_layout, &layout);
            assert!(ffi::av_frame_get_buffer(raw, 0) >= 0);
            r.pop_into(raw, count).unwrap();
            std::slice::from_raw_parts((*raw).data[0].cast::<f32>(), count * 2).to_vec()
        };
        out
    };
    let whole = run(&[usize::MAX]);
    // 0.5 s at 44.1 kHz is 24000 samples at 48 kHz, give or take the filter's rounding.
    assert!((whole.len() / 2).abs_diff(24000) <= 2, "{} samples", whole.len() / 2);
    assert_eq!(run(&[1]), whole, "one sample at a time");
    assert_eq!(run(&[3, 1024, 17]), whole, "odd chunks");
}

#[test]
fn audio_errors_are_coded() {
    let err = |format: &str, a: AudioSettings| encode_with_audio(format, a, Vec::new(), 2).unwrap_err();
    let e = err("gif", audio(48000, 2, None));
    assert_eq!(e.code, ErrorCode::Encode);
    assert!(e.message.contains("gif cannot hold an audio track"), "{}", e.message);
    let e = err("webm", audio(48000, 2, Some("aac")));
    assert_eq!(e.code, ErrorCode::Encode);
    assert!(e.message.contains("webm cannot hold audio encoded by aac"), "{}", e.message);
    for bad in ["nope", "libx264", "h264"] {
        assert_eq!(err("mp4", audio(48000, 2, Some(bad))).code, ErrorCode::UnknownCodec, "{bad}");
    }
    let e = err("avi", audio(48000, 3, Some("libmp3lame")));
    assert_eq!(e.code, ErrorCode::InvalidArgValue);
    assert!(e.message.contains("takes 1, 2 channels"), "{}", e.message);
    let mut a = audio(48000, 2, None);
    a.extra = vec![("nope".into(), OptionValue::Num(1.0))];
    let e = err("mp4", a);
    assert_eq!(e.code, ErrorCode::InvalidOption);
    assert!(e.message.contains("'nope'") && e.message.contains("audio encoder aac"), "{}", e.message);
}

#[test]
fn audio_without_frames_is_no_video() {
    let spec = PipelineSpec {
        width: 64,
        height: 48,
        input: InputPixels::PlanarRgb,
        device: Device::Cpu,
        frame_rate: FrameRate::from_f64(30.0).unwrap(),
        container: Container::resolve("mp4").unwrap(),
        settings: EncodeSettings::default(),
        audio: Some(audio(48000, 1, None)),
    };
    let pipeline = Pipeline::open(&spec, || Ok(Box::new(MemorySink::new()))).unwrap();
    let (feed, fed) = std::sync::mpsc::channel();
    feed.send(Feed::Audio(AudioChunk { samples: tone(48000, 1, 0.2), id: 0 })).unwrap();
    feed.send(Feed::Close).unwrap();
    assert_eq!(pipeline.run(fed, &Unwatched, None).unwrap_err().code, ErrorCode::InvalidState);
}

#[test]
fn non_finite_samples_are_found_in_time_order() {
    assert_eq!(first_non_finite(&[0.0, 0.5, -1.0]), None);
    assert_eq!(first_non_finite(&[0.0, f32::NAN, f32::INFINITY]), Some(1));
    assert_eq!(first_non_finite(&[f32::NEG_INFINITY]), Some(0));
}

#[test]
fn flac_in_avi_takes_any_length() {
    // avi counts flac's frames: the short last frame and the final STREAMINFO packet share a tick, which
    // the muxer refused ("non monotonically increasing dts") unless the length was a multiple of 4608.
    for seconds in [0.5, 1.0, 46080.0 / 48000.0] {
        let (summary, _) =
            encode_with_audio("avi", audio(48000, 2, Some("flac")), tone(48000, 2, seconds), 15).unwrap();
        assert_eq!(summary.audio_codec.as_deref(), Some("flac"), "{seconds} s");
    }
}

#[test]
fn mpegts_refuses_what_it_would_write_as_private_data() {
    for codec in ["flac", "pcm_s16le"] {
        let e = encode_with_audio("ts", audio(48000, 2, Some(codec)), Vec::new(), 2).unwrap_err();
        assert_eq!(e.code, ErrorCode::Encode, "{codec}");
        assert!(e.message.contains("mpegts cannot hold audio encoded by"), "{}", e.message);
    }
    for codec in ["aac", "libopus", "libmp3lame"] {
        assert!(encode_with_audio("ts", audio(48000, 2, Some(codec)), tone(48000, 2, 0.1), 2).is_ok(), "{codec}");
    }
    let vp9 = EncodeSettings { codec: Some("libvpx-vp9".into()), ..Default::default() };
    let source = host(nchw_frames(2, 48, 64), [2, 3, 48, 64], Layout::Nchw);
    let e = encode(
        Arc::new(source),
        FrameRate::from_f64(30.0).unwrap(),
        Container::resolve("ts").unwrap(),
        &vp9,
        None,
        &Unwatched,
        || Ok(Box::new(MemorySink::new())),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Encode);
}

#[test]
fn a_resampled_track_keeps_every_sample_however_short() {
    // swresample's flush gave back nothing of an input shorter than its filter: 32 samples at 96 kHz were
    // lost on the way to 48 kHz. The track has round(n × out / in) samples, never more.
    use crate::core::convert::resample::Resampler;
    use ffmpeg_next::ffi;
    // SAFETY: a zeroed layout filled by FFmpeg with the default mono layout.
    let mut layout: ffi::AVChannelLayout = unsafe { std::mem::zeroed() };
    unsafe { ffi::av_channel_layout_default(&mut layout, 1) };
    for (n, from, to) in
        [(8usize, 96000, 48000), (32, 96000, 48000), (200, 96000, 48000), (5, 44100, 48000), (1000, 48000, 48000)]
    {
        let mut r = Resampler::new(from, &layout, ffi::AVSampleFormat::AV_SAMPLE_FMT_FLTP, to).unwrap();
        r.push(&vec![0.3f32; n]).unwrap();
        r.flush().unwrap();
        let expected = ((n as u64 * to as u64 + from as u64 / 2) / from as u64) as usize;
        assert_eq!(r.queued(), expected, "{n} samples at {from} Hz → {to} Hz");
    }
}

#[test]
fn loud_samples_are_clipped_not_fed_to_the_encoders() {
    // libmp3lame aborted the process (an assertion) on samples of 1e6; FFmpeg's aac looped for ever on one
    // of 1e8. Clipped first, they encode as full-scale samples do.
    for (format, codec) in [("avi", "libmp3lame"), ("mp4", "aac"), ("webm", "libopus")] {
        let mut loud = tone(48000, 1, 0.1);
        let mut full = loud.clone();
        for (i, s) in [(5usize, 1e8f32), (700, -1e10), (2000, 1e6), (3000, 1.5)] {
            loud[i] = s;
            full[i] = s.clamp(-1.0, 1.0);
        }
        let (_, a) = encode_with_audio(format, audio(48000, 1, Some(codec)), loud, 3).unwrap();
        let (_, b) = encode_with_audio(format, audio(48000, 1, Some(codec)), full, 3).unwrap();
        assert!(a == b, "{codec}: loud samples encode as clipped ones");
    }
    // Float PCM keeps them.
    let loud = vec![2.0f32; 480];
    let (_, a) = encode_with_audio("mkv", audio(48000, 1, Some("pcm_f32le")), loud, 3).unwrap();
    let (_, b) = encode_with_audio("mkv", audio(48000, 1, Some("pcm_f32le")), vec![1.0f32; 480], 3).unwrap();
    assert!(a != b, "pcm_f32le stores 2.0 as it is");
}

#[test]
fn a_layout_option_of_another_channel_count_is_refused() {
    // It crashed: the resampler was made for `channels`, the encoder's frames for the option's layout.
    for codec in ["aac", "libopus", "pcm_s16le"] {
        let mut a = audio(48000, 2, Some(codec));
        a.extra = vec![("ch_layout".into(), OptionValue::Str("mono".into()))];
        let e = encode_with_audio("mkv", a, Vec::new(), 2).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidOption, "{codec}: {}", e.message);
        assert!(e.message.contains("1 channels, but audio.channels is 2"), "{}", e.message);
    }
    // A layout of the same count is the caller's to choose.
    let mut a = audio(48000, 2, Some("pcm_s16le"));
    a.extra = vec![("ch_layout".into(), OptionValue::Str("downmix".into()))];
    assert!(encode_with_audio("mkv", a, tone(48000, 2, 0.1), 2).is_ok());
}

#[test]
fn opus_takes_every_channel_count_up_to_8() {
    // 3 and 4 channels were refused: FFmpeg's default layouts (2.1, 4.0) are not Opus's (3.0, quad).
    for channels in 1..=8 {
        let (summary, _) =
            encode_with_audio("webm", audio(48000, channels, None), tone(48000, channels, 0.1), 2).unwrap();
        assert_eq!(summary.audio_codec.as_deref(), Some("libopus"), "{channels} channels");
    }
}
