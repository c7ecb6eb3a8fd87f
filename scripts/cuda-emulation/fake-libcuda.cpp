// A stand-in for the CUDA driver (libcuda.so.1) and the NVENC library (libnvidia-encode.so.1), for
// testing framecodec's CUDA paths on machines without a GPU (CI). It is not a simulator of a GPU: it
// implements the driver calls framecodec and FFmpeg make, strictly enough to catch host-side mistakes.
//
// What it models, and why:
// - "Device memory" is host memory, but every allocation is registered: copies, kernel launches and
//   pointer queries that touch bytes outside a live allocation fail with the driver's error codes, as
//   on a GPU. So a wrong pitch, plane offset or frame size in our code is caught here.
// - Calls that need a current context (allocation, copies, launches, module loads) fail with
//   CUDA_ERROR_INVALID_CONTEXT when the calling thread has none, as on a GPU: this catches a missing
//   bind on framecodec's conversion thread or in a callback from FFmpeg. Pinned host allocations are
//   registered too, and pointer queries tell them from device memory.
// - Kernels: the module must be PTX with framecodec's two entries, whose parameter types must be those
//   the launch reads; a launch runs the same kernel source (src/core/cuda/kernels.cu) on the CPU,
//   thread by thread.
// - NVENC: like an H100/H200, the library loads but opening an encode session fails with
//   NV_ENC_ERR_UNSUPPORTED_DEVICE, so the fallback to the CPU encoder runs as it does there.
// - FAKE_CUDA_DEVICES (default 1) sets the number of devices; FAKE_CUDA_REJECT_PTX_TARGET=sm_52 makes
//   module loads refuse PTX for that target, as a driver that dropped it would; FAKE_CUDA_SEGMENT=N
//   maps device allocations as contiguous N-byte segments, each its own address range (as memory
//   mapped with the virtual memory API, e.g. PyTorch's expandable segments).
//
// Every other driver entry point FFmpeg's loader asks for exists and returns CUDA_ERROR_NOT_SUPPORTED.
// Built and used by scripts/cuda-emulation/run-with-fake-cuda.sh.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cuda-threads.h"
#include "../../src/core/cuda/kernels.cu"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
enum : CUresult {
    SUCCESS = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_DEVICE = 101,
    INVALID_IMAGE = 200, INVALID_CONTEXT = 201, INVALID_HANDLE = 400, NOT_FOUND = 500,
    UNSUPPORTED_PTX_VERSION = 222, ILLEGAL_ADDRESS = 700, NOT_SUPPORTED = 801,
};

namespace {

struct Context { CUdevice device; bool primary; };
// One mapped range. An allocation is one range, or with FAKE_CUDA_SEGMENT several contiguous ones
// (`block` = the allocation's base), as memory mapped with CUDA's virtual memory API (PyTorch's
// expandable segments): the driver reports such memory one physical segment at a time.
struct Allocation { size_t size; CUdevice device; bool host; CUdeviceptr block; size_t total; };
struct Module { std::string ptx; };
struct Function { int kernel; };  // 0 = rgb_to_yuv420, 1 = rgb_to_yuv444

std::mutex lock;
bool initialised = false;
std::map<CUdeviceptr, Allocation> allocations;  // ranges by start address
std::vector<Context*> primaries;
std::vector<CUdeviceptr> pending;  // allocations a test marked as still being written (see below)
thread_local std::vector<Context*> current;  // the thread's context stack; back() is current

int device_count() {
    const char* n = getenv("FAKE_CUDA_DEVICES");
    return n ? atoi(n) : 1;
}

size_t segment_size() {
    const char* n = getenv("FAKE_CUDA_SEGMENT");
    return n ? strtoull(n, nullptr, 10) : 0;
}

Context* current_context() { return current.empty() ? nullptr : current.back(); }

// The range holding `ptr`, or null. Caller holds `lock`.
const Allocation* range_at(CUdeviceptr ptr, CUdeviceptr* start = nullptr) {
    auto it = allocations.upper_bound(ptr);
    if (it == allocations.begin()) return nullptr;
    --it;
    if (ptr >= it->first + it->second.size) return nullptr;
    if (start) *start = it->first;
    return &it->second;
}

// The range holding `ptr` if [ptr, ptr + len) lies in it and the contiguous ranges after it, all
// of one kind (device or host); else null. Caller holds `lock`.
const Allocation* holding(CUdeviceptr ptr, size_t len) {
    CUdeviceptr start = 0;
    const Allocation* first = range_at(ptr, &start);
    for (const Allocation* a = first; a; a = range_at(start)) {
        if (a->host != first->host) return nullptr;
        start += a->size;
        if (ptr + len <= start) return first;
    }
    return nullptr;
}

bool device_range(CUdeviceptr ptr, size_t len) {
    std::lock_guard<std::mutex> g(lock);
    const Allocation* a = holding(ptr, len);
    return a && !a->host;
}

CUresult allocate(CUdeviceptr* out, size_t size, bool host) {
    Context* ctx = current_context();
    if (!ctx) return INVALID_CONTEXT;
    if (!out || size == 0) return INVALID_VALUE;
    void* p = aligned_alloc(256, (size + 255) / 256 * 256);
    if (!p) return OUT_OF_MEMORY;
    std::lock_guard<std::mutex> g(lock);
    CUdeviceptr base = (CUdeviceptr)p;
    size_t segment = host || segment_size() == 0 ? size : segment_size();
    for (size_t at = 0; at < size; at += segment)
        allocations[base + at] = Allocation{std::min(segment, size - at), ctx->device, host, base, size};
    *out = base;
    return SUCCESS;
}

CUresult release(CUdeviceptr ptr, bool host) {
    if (!current_context()) return INVALID_CONTEXT;
    std::lock_guard<std::mutex> g(lock);
    auto it = allocations.find(ptr);
    if (it == allocations.end() || it->second.host != host || it->second.block != ptr) return INVALID_VALUE;
    while (it != allocations.end() && it->second.block == ptr) it = allocations.erase(it);
    free((void*)ptr);
    return SUCCESS;
}

// A copy between host memory and a device allocation (either way), checked on the device side.
CUresult copy(void* dst, const void* src, size_t len, CUdeviceptr device_side) {
    if (!current_context()) return INVALID_CONTEXT;
    if (!device_range(device_side, len)) return INVALID_VALUE;
    memcpy(dst, src, len);
    return SUCCESS;
}

CUresult not_supported() { return NOT_SUPPORTED; }

}  // namespace

extern "C" {

CUresult cuInit(unsigned) { initialised = true; return SUCCESS; }
CUresult cuDriverGetVersion(int* v) { *v = 12080; return SUCCESS; }
CUresult cuDeviceGetCount(int* n) {
    if (!initialised) return NOT_INITIALIZED;
    *n = device_count();
    return SUCCESS;
}
CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    if (!initialised) return NOT_INITIALIZED;
    if (ordinal < 0 || ordinal >= device_count()) return INVALID_DEVICE;
    *d = ordinal;
    return SUCCESS;
}
CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    if (d < 0 || d >= device_count()) return INVALID_DEVICE;
    snprintf(name, len, "Fake CUDA Device %d (framecodec test driver)", d);
    return SUCCESS;
}
CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice) { *major = 9; *minor = 0; return SUCCESS; }
CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice d) {
    if (d < 0 || d >= device_count()) return INVALID_DEVICE;
    switch (attribute) {
        case 1: *value = 1024; break;              // max threads per block
        case 14: *value = 512; break;              // texture alignment
        case 41: *value = 1; break;                // unified addressing
        case 75: *value = 9; break;                // compute capability major
        case 76: *value = 0; break;                // minor
        default: *value = 0;                       // memory pools and the rest: absent
    }
    return SUCCESS;
}
CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice) { *bytes = size_t(1) << 34; return SUCCESS; }

CUresult cuDevicePrimaryCtxRetain(Context** ctx, CUdevice d) {
    if (!initialised) return NOT_INITIALIZED;
    if (d < 0 || d >= device_count()) return INVALID_DEVICE;
    std::lock_guard<std::mutex> g(lock);
    if (primaries.size() < (size_t)device_count()) primaries.resize(device_count(), nullptr);
    if (!primaries[d]) primaries[d] = new Context{d, true};
    *ctx = primaries[d];
    return SUCCESS;
}
CUresult cuDevicePrimaryCtxRelease(CUdevice) { return SUCCESS; }
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice) { return SUCCESS; }
CUresult cuDevicePrimaryCtxSetFlags(CUdevice, unsigned) { return SUCCESS; }
CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice, unsigned) { return SUCCESS; }
CUresult cuDevicePrimaryCtxGetState(CUdevice, unsigned* flags, int* active) { *flags = 0; *active = 1; return SUCCESS; }
CUresult cuDevicePrimaryCtxReset(CUdevice) { return SUCCESS; }
CUresult cuDevicePrimaryCtxReset_v2(CUdevice) { return SUCCESS; }

CUresult cuCtxCreate_v2(Context** ctx, unsigned, CUdevice d) {
    if (d < 0 || d >= device_count()) return INVALID_DEVICE;
    *ctx = new Context{d, false};
    current.push_back(*ctx);
    return SUCCESS;
}
CUresult cuCtxDestroy_v2(Context* ctx) {
    if (!ctx || ctx->primary) return INVALID_CONTEXT;
    for (auto it = current.begin(); it != current.end();) it = *it == ctx ? current.erase(it) : it + 1;
    delete ctx;
    return SUCCESS;
}
CUresult cuCtxPushCurrent_v2(Context* ctx) {
    if (!ctx) return INVALID_CONTEXT;
    current.push_back(ctx);
    return SUCCESS;
}
CUresult cuCtxPopCurrent_v2(Context** ctx) {
    if (current.empty()) return INVALID_CONTEXT;
    if (ctx) *ctx = current.back();
    current.pop_back();
    return SUCCESS;
}
CUresult cuCtxSetCurrent(Context* ctx) {
    if (!current.empty()) current.pop_back();
    if (ctx) current.push_back(ctx);
    return SUCCESS;
}
CUresult cuCtxGetCurrent(Context** ctx) { *ctx = current_context(); return SUCCESS; }
CUresult cuCtxGetDevice(CUdevice* d) {
    if (!current_context()) return INVALID_CONTEXT;
    *d = current_context()->device;
    return SUCCESS;
}
CUresult cuCtxSynchronize() {
    if (!current_context()) return INVALID_CONTEXT;
    std::lock_guard<std::mutex> g(lock);
    pending.clear();
    return SUCCESS;
}

// Test hook: how many live allocations (device, or pinned host) have exactly `size` bytes.
int fake_cuda_live_allocations(size_t size, int host) {
    std::lock_guard<std::mutex> g(lock);
    int n = 0;
    for (auto& [start, a] : allocations) n += start == a.block && a.host == (host != 0) && a.total == size;
    return n;
}

// Test hook: marks the allocation at `ptr` as being written by work queued on a non-blocking stream.
// Until cuCtxSynchronize, a kernel that reads it fails (on a GPU it would read half-written frames).
void fake_cuda_write_pending(CUdeviceptr ptr) {
    std::lock_guard<std::mutex> g(lock);
    pending.push_back(ptr);
}
CUresult cuCtxSetLimit(int, size_t) { return SUCCESS; }

CUresult cuMemAlloc_v2(CUdeviceptr* ptr, size_t size) { return allocate(ptr, size, false); }
CUresult cuMemAllocPitch_v2(CUdeviceptr* ptr, size_t* pitch, size_t width, size_t height, unsigned) {
    *pitch = (width + 511) / 512 * 512;
    return allocate(ptr, *pitch * height, false);
}
CUresult cuMemFree_v2(CUdeviceptr ptr) { return release(ptr, false); }
CUresult cuMemHostAlloc(void** ptr, size_t size, unsigned) { return allocate((CUdeviceptr*)ptr, size, true); }
CUresult cuMemAllocHost_v2(void** ptr, size_t size) { return allocate((CUdeviceptr*)ptr, size, true); }
CUresult cuMemFreeHost(void* ptr) { return release((CUdeviceptr)ptr, true); }

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) { return copy((void*)dst, src, n, dst); }
CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) { return copy(dst, (const void*)src, n, src); }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void*) { return cuMemcpyHtoD_v2(dst, src, n); }
CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void*) { return cuMemcpyDtoH_v2(dst, src, n); }
CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    if (!device_range(src, n)) return INVALID_VALUE;
    return copy((void*)dst, (const void*)src, n, dst);
}
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t n, void*) {
    if (!device_range(dst, n)) return INVALID_VALUE;
    memset((void*)dst, value, n);
    return SUCCESS;
}
CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t n) { return cuMemsetD8Async(dst, value, n, nullptr); }

CUresult cuMemGetAddressRange_v2(CUdeviceptr* base, size_t* size, CUdeviceptr ptr) {
    std::lock_guard<std::mutex> g(lock);
    CUdeviceptr b = 0;
    const Allocation* a = range_at(ptr, &b);
    if (!a || a->host) return NOT_FOUND;
    if (base) *base = b;
    if (size) *size = a->size;
    return SUCCESS;
}
// Virtual memory API: segmented allocations (FAKE_CUDA_SEGMENT) stand for VMM mappings.
CUresult cuMemRetainAllocationHandle(unsigned long long* handle, void* addr) {
    std::lock_guard<std::mutex> g(lock);
    const Allocation* a = range_at((CUdeviceptr)addr);
    if (!a || a->host || segment_size() == 0) return INVALID_VALUE;
    *handle = (unsigned long long)addr;
    return SUCCESS;
}
CUresult cuMemRelease(unsigned long long) { return SUCCESS; }

CUresult cuPointerGetAttribute(void* data, int attribute, CUdeviceptr ptr) {
    std::lock_guard<std::mutex> g(lock);
    const Allocation* a = holding(ptr, 1);
    if (!a) return INVALID_VALUE;
    switch (attribute) {
        case 2: *(unsigned*)data = a->host ? 1 : 2; return SUCCESS;  // MEMORY_TYPE: CU_MEMORYTYPE_HOST / _DEVICE
        case 9: *(int*)data = a->device; return SUCCESS;             // DEVICE_ORDINAL
        default: return NOT_SUPPORTED;
    }
}

// The parameter types of a kernel entry in PTX, e.g. "u64 u32 u32 ...".
static std::string entry_params(const std::string& ptx, const char* name) {
    size_t at = ptx.find(std::string(".entry ") + name + "(");
    if (at == std::string::npos) return "";
    size_t end = ptx.find(')', at);
    std::string types;
    for (size_t p = ptx.find(".param .", at); p != std::string::npos && p < end; p = ptx.find(".param .", p + 1))
        types += ptx.substr(p + 8, 3) + " ";
    return types;
}

CUresult cuModuleLoadData(Module** module, const void* image) {
    if (!current_context()) return INVALID_CONTEXT;
    std::string ptx((const char*)image);
    // A driver that no longer JIT-compiles some PTX targets (FAKE_CUDA_REJECT_PTX_TARGET=sm_52).
    const char* rejected = getenv("FAKE_CUDA_REJECT_PTX_TARGET");
    if (rejected && *rejected && ptx.find(std::string(".target ") + rejected) != std::string::npos) return UNSUPPORTED_PTX_VERSION;
    if (ptx.find(".entry rgb_to_yuv420") == std::string::npos || ptx.find(".entry rgb_to_yuv444") == std::string::npos)
        return INVALID_IMAGE;
    *module = new Module{ptx};
    return SUCCESS;
}
CUresult cuModuleUnload(Module* module) { delete module; return SUCCESS; }
CUresult cuModuleGetFunction(Function** f, Module* module, const char* name) {
    if (!module) return INVALID_HANDLE;
    int kernel = strcmp(name, "rgb_to_yuv420") == 0 ? 0 : strcmp(name, "rgb_to_yuv444") == 0 ? 1 : -1;
    if (kernel < 0 || module->ptx.find(std::string(".entry ") + name) == std::string::npos) return NOT_FOUND;
    // cuLaunchKernel below reads the arguments in this order and these sizes: the PTX must agree.
    std::string expected = "u64 u32 u32 u32 u64 u32 u64 u64 u32 u32 ";
    for (int i = 0; i < 10; i++) expected += "u32 ";
    if (entry_params(module->ptx, name) != expected) {
        fprintf(stderr, "fake libcuda: %s takes (%s), the stand-in expects (%s)\n", name, entry_params(module->ptx, name).c_str(), expected.c_str());
        return INVALID_IMAGE;
    }
    *f = new Function{kernel};
    return SUCCESS;
}

// Runs a conversion kernel on the CPU after checking that everything it reads and writes lies in
// device allocations (a GPU would fault, or silently corrupt memory).
CUresult cuLaunchKernel(Function* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned, void*, void** params, void**) {
    if (!current_context()) return INVALID_CONTEXT;
    if (!f || !params) return INVALID_VALUE;
    if ((unsigned long)bx * by * bz > 1024 || gz != 1 || bz != 1) return INVALID_VALUE;
    auto u64 = [&](int i) { return *(uint64_t*)params[i]; };
    auto i32 = [&](int i) { return *(int*)params[i]; };
    CUdeviceptr src = u64(0), y = u64(4), u = u64(6), v = u64(7);
    int layout = i32(1), w = i32(2), h = i32(3), y_pitch = i32(5), uv_pitch = i32(8), uv_step = i32(9);
    int c[10];
    for (int i = 0; i < 10; i++) c[i] = i32(10 + i);
    if (layout < 0 || layout > 2 || w <= 0 || h <= 0) return INVALID_VALUE;
    bool sub = f->kernel == 0;
    int cw = sub ? (w + 1) / 2 : w, ch = sub ? (h + 1) / 2 : h;
    size_t frame = (size_t)w * h * (layout == 2 ? 4 : 3);
    size_t y_extent = (size_t)y_pitch * (h - 1) + w, uv_extent = (size_t)uv_pitch * (ch - 1) + (size_t)(cw - 1) * uv_step + 1;
    if (!device_range(src, frame) || !device_range(y, y_extent) || !device_range(u, uv_extent) || !device_range(v, uv_extent))
        return ILLEGAL_ADDRESS;
    {
        std::lock_guard<std::mutex> g(lock);
        const Allocation* read = range_at(src);
        for (CUdeviceptr p : pending) {
            if (read->block == p) {
                fprintf(stderr, "fake libcuda: a kernel read frames still being written (no synchronization first)\n");
                return ILLEGAL_ADDRESS;
            }
        }
    }
    if ((unsigned long)gx * bx < (unsigned long)cw || (unsigned long)gy * by < (unsigned long)ch) return INVALID_VALUE;  // would leave pixels unwritten
    auto* s = (const unsigned char*)src;
    auto *yp = (unsigned char*)y, *up = (unsigned char*)u, *vp = (unsigned char*)v;
    blockDim = {(int)bx, (int)by, 1};
    for (unsigned b_y = 0; b_y < gy; b_y++) for (unsigned b_x = 0; b_x < gx; b_x++) {
        blockIdx = {(int)b_x, (int)b_y, 0};
        for (unsigned t_y = 0; t_y < by; t_y++) for (unsigned t_x = 0; t_x < bx; t_x++) {
            threadIdx = {(int)t_x, (int)t_y, 0};
            if (sub) rgb_to_yuv420(s, layout, w, h, yp, y_pitch, up, vp, uv_pitch, uv_step, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
            else rgb_to_yuv444(s, layout, w, h, yp, y_pitch, up, vp, uv_pitch, uv_step, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
        }
    }
    return SUCCESS;
}

// Streams and events: everything above completes before returning, so they only need to exist.
CUresult cuStreamCreate(void** stream, unsigned) { *stream = new int(0); return SUCCESS; }
CUresult cuStreamDestroy_v2(void* stream) { delete (int*)stream; return SUCCESS; }
CUresult cuStreamSynchronize(void*) { return current_context() ? SUCCESS : INVALID_CONTEXT; }
CUresult cuStreamQuery(void*) { return SUCCESS; }
CUresult cuStreamWaitEvent(void*, void*, unsigned) { return SUCCESS; }
CUresult cuEventCreate(void** event, unsigned) { *event = new int(0); return SUCCESS; }
CUresult cuEventDestroy_v2(void* event) { delete (int*)event; return SUCCESS; }
CUresult cuEventRecord(void*, void*) { return SUCCESS; }
CUresult cuEventSynchronize(void*) { return SUCCESS; }
CUresult cuEventQuery(void*) { return SUCCESS; }

CUresult cuGetErrorName(CUresult e, const char** s) {
    switch (e) {
        case SUCCESS: *s = "CUDA_SUCCESS"; break;
        case INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; break;
        case OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; break;
        case NOT_INITIALIZED: *s = "CUDA_ERROR_NOT_INITIALIZED"; break;
        case INVALID_DEVICE: *s = "CUDA_ERROR_INVALID_DEVICE"; break;
        case INVALID_IMAGE: *s = "CUDA_ERROR_INVALID_IMAGE"; break;
        case UNSUPPORTED_PTX_VERSION: *s = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"; break;
        case INVALID_CONTEXT: *s = "CUDA_ERROR_INVALID_CONTEXT"; break;
        case INVALID_HANDLE: *s = "CUDA_ERROR_INVALID_HANDLE"; break;
        case NOT_FOUND: *s = "CUDA_ERROR_NOT_FOUND"; break;
        case ILLEGAL_ADDRESS: *s = "CUDA_ERROR_ILLEGAL_ADDRESS"; break;
        case NOT_SUPPORTED: *s = "CUDA_ERROR_NOT_SUPPORTED"; break;
        default: *s = nullptr; return INVALID_VALUE;
    }
    return SUCCESS;
}
CUresult cuGetErrorString(CUresult e, const char** s) { return cuGetErrorName(e, s); }

// The rest of what FFmpeg's CUDA loader resolves (it fails to load when a name is missing).
#define UNSUPPORTED(name) CUresult name() { return not_supported(); }
UNSUPPORTED(cuMemAllocManaged) UNSUPPORTED(cuMemcpy) UNSUPPORTED(cuMemcpyAsync) UNSUPPORTED(cuMemcpy2D_v2)
UNSUPPORTED(cuMemcpy2DAsync_v2) UNSUPPORTED(cuMemcpyDtoDAsync_v2) UNSUPPORTED(cuStreamAddCallback)
UNSUPPORTED(cuLinkCreate) UNSUPPORTED(cuLinkAddData) UNSUPPORTED(cuLinkComplete) UNSUPPORTED(cuLinkDestroy)
UNSUPPORTED(cuModuleGetGlobal) UNSUPPORTED(cuTexObjectCreate) UNSUPPORTED(cuTexObjectDestroy)
UNSUPPORTED(cuGLGetDevices_v2) UNSUPPORTED(cuGraphicsGLRegisterImage) UNSUPPORTED(cuGraphicsUnregisterResource)
UNSUPPORTED(cuGraphicsMapResources) UNSUPPORTED(cuGraphicsUnmapResources) UNSUPPORTED(cuDeviceGetUuid)
UNSUPPORTED(cuImportExternalMemory) UNSUPPORTED(cuDestroyExternalMemory) UNSUPPORTED(cuMipmappedArrayGetLevel)
UNSUPPORTED(cuMipmappedArrayDestroy) UNSUPPORTED(cuImportExternalSemaphore) UNSUPPORTED(cuDestroyExternalSemaphore)
UNSUPPORTED(cuWaitExternalSemaphoresAsync) UNSUPPORTED(cuArray3DCreate_v2) UNSUPPORTED(cuArrayDestroy)
UNSUPPORTED(cuArrayCreate_v2)  // required since nv-codec-headers 12.1 (the FFmpeg we ship)
UNSUPPORTED(cuEGLStreamProducerConnect) UNSUPPORTED(cuEGLStreamProducerDisconnect)
UNSUPPORTED(cuEGLStreamConsumerDisconnect) UNSUPPORTED(cuGraphicsSubResourceGetMappedArray)
UNSUPPORTED(cuGraphicsResourceGetMappedPointer_v2) UNSUPPORTED(cuExternalMemoryGetMappedBuffer)
UNSUPPORTED(cuExternalMemoryGetMappedMipmappedArray) UNSUPPORTED(cuSignalExternalSemaphoresAsync)
UNSUPPORTED(cuEGLStreamProducerPresentFrame) UNSUPPORTED(cuEGLStreamProducerReturnFrame)

// NVENC, as on GPUs without video encoder engines: the API loads, no encode session opens.
static int unsupported_device() { return 2; }  // NV_ENC_ERR_UNSUPPORTED_DEVICE
int NvEncodeAPIGetMaxSupportedVersion(uint32_t* version) { *version = (255 << 4) | 15; return 0; }
int NvEncodeAPICreateInstance(void* function_list) {
    // NV_ENCODE_API_FUNCTION_LIST: two uint32 (version, reserved), then 39 function pointers in every
    // SDK since 8.1, then reserved space. Every entry answers "unsupported device".
    auto** fns = (void**)((char*)function_list + 8);
    for (int i = 0; i < 39; i++) fns[i] = (void*)&unsupported_device;
    return 0;
}

}  // extern "C"
