//! The audio track in the core: one-shot and pushed, every default codec, timing.

use std::sync::Arc;

use super::tests::{host, nchw_frames};
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
    let mut summary = encode(
        Arc::new(source),
        FrameRate::from_f64(30.0).unwrap(),
        Container::resolve(format).unwrap(),
        &EncodeSettings::default(),
        Some(AudioInput { settings: a, samples: Arc::new(samples) }),
        &Unwatched,
        || Ok(Box::new(MemorySink::new())),
    )?;
    match std::mem::replace(&mut summary.output, SinkOutput::Streamed) {
        SinkOutput::Memory(bytes) => Ok((summary, bytes)),
        other => panic!("expected memory output, got {other:?}"),
    }
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
