//! A job's thread as the environment's teardown sees it, and the cleanup hook that stops it.
//!
//! Why a cleanup hook per job: a worker's environment can be torn down (`worker.terminate()`, an
//! Electron reload) while a job's threads still read its frames and call its threadsafe function; both
//! are freed with the environment. The hook, registered after the threadsafe function (Node runs
//! cleanup hooks in reverse order), aborts the job and joins its thread before either is freed. It
//! stays registered as long as the job's JS state lives, which then knows not to touch references
//! the environment is freeing (see `state.rs`).

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use napi::sys;

use crate::js::node_api as js;

/// A job's thread, for the environment's teardown.
pub struct EncodeThread {
    pub abort: Arc<AtomicBool>,
    handle: Mutex<Option<JoinHandle<()>>>,
    /// Set by the cleanup hook: the environment is being torn down, no JavaScript may run.
    pub env_gone: AtomicBool,
}

impl EncodeThread {
    pub fn new() -> Arc<EncodeThread> {
        Arc::new(EncodeThread {
            abort: Arc::new(AtomicBool::new(false)),
            handle: Mutex::new(None),
            env_gone: AtomicBool::new(false),
        })
    }

    /// The thread the hook joins.
    pub fn set_handle(&self, handle: JoinHandle<()>) {
        *self.handle.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
    }

    pub fn env_gone(&self) -> bool {
        self.env_gone.load(Ordering::SeqCst)
    }
}

/// Runs when the environment is torn down while the job's state lives: stops the job and waits for its
/// thread, so that nothing reads the environment's memory or calls into it once it is freed.
unsafe extern "C" fn stop_on_teardown(arg: *mut c_void) {
    // SAFETY: `arg` is the count of the Arc given to the hook in `TeardownHook::register`; the hook runs
    // once, and `TeardownHook::remove` no longer frees it once `env_gone` is set.
    let thread = unsafe { Arc::from_raw(arg as *const EncodeThread) };
    thread.env_gone.store(true, Ordering::SeqCst);
    thread.abort.store(true, Ordering::SeqCst);
    let handle = thread.handle.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(handle) = handle {
        // The thread notices the abort within a frame (waits for frames or for a stream poll it every 20 ms).
        let _ = handle.join();
    }
}

/// A registered cleanup hook for one job's thread (holding one count of it).
pub struct TeardownHook(*const EncodeThread);

impl TeardownHook {
    /// Registers the hook for `thread` (on the JS thread); `None` if Node refused.
    pub fn register(env: sys::napi_env, thread: &Arc<EncodeThread>) -> Option<TeardownHook> {
        let arg = Arc::into_raw(thread.clone()) as *mut c_void;
        // SAFETY: registered on the JS thread; `arg` holds one count of the Arc, freed by the hook or by
        // `remove`, which unregisters the hook first.
        if unsafe { js::add_env_cleanup_hook(env, stop_on_teardown, arg) } {
            return Some(TeardownHook(arg as *const EncodeThread));
        }
        // SAFETY: the hook was not registered: `arg` is the count made above, ours to free.
        drop(unsafe { Arc::from_raw(arg as *const EncodeThread) });
        None
    }

    /// Unregisters the hook (on the JS thread, while the environment lives; a hook that ran is left
    /// alone: it took its count).
    pub fn remove(self, env: sys::napi_env, thread: &EncodeThread) {
        if thread.env_gone() {
            return;
        }
        // The hook is registered with exactly this function and argument, and has not run (`env_gone`
        // is unset, and both run on the JS thread).
        js::remove_env_cleanup_hook(env, stop_on_teardown, self.0 as *mut c_void);
        // SAFETY: the hook's Arc count, which it did not take: ours to free.
        drop(unsafe { Arc::from_raw(self.0) });
    }
}
