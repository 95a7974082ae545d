// PSF kernels for the CPU: one pass over memory forward, one backward.
//
// f(x) = x for x >= 0, e^a x / (e^a + |x|) for x < 0. With t = exp(-a) (clamped to the compute
// type's largest finite value), xn = min(x, 0), u = xn t (clamped from below the same way) and
// r = 1 / (1 - u) = s / (s + |x|):
//   forward:  y = x r
//   backward, from the saved input x:
//     dL/dx = g r^2
//     dL/da = -sum(g r^2 xn u)     (= -sum(g s x^2 / (s + |x|)^2))
// x is viewed as (A, C, B) rows: C = alpha.numel() channels on dim 1 (or one alpha for
// everything: C = 1, B = numel). Work is split into fixed blocks of elements; each block sums
// its alpha gradient into its own slot (each term in the compute type, summed in double), and the
// slots are added in block order, so the result does not depend on the number of threads.
// float16/bfloat16 compute in float32; float32 in float32; float64 in float64.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

namespace {

constexpr int64_t kBlock = 1 << 15;  // elements per block of work
constexpr int64_t kRun = 256;        // elements per run of the backward's two loops (in L1)

struct Layout {
  int64_t numel, channels, inner;  // (A, C, B) with C = channels, B = inner
};

Layout layout_of(const at::Tensor& x, const at::Tensor& alpha) {
  TORCH_CHECK(x.device().is_cpu() && alpha.device().is_cpu(), "ganzoo_psf: CPU tensors only");
  TORCH_CHECK(alpha.dim() == 1 && alpha.numel() >= 1, "ganzoo_psf: alpha must be 1-D");
  const int64_t channels = alpha.numel();
  const int64_t numel = x.numel();
  if (channels == 1) {
    return {numel, 1, std::max<int64_t>(numel, 1)};
  }
  TORCH_CHECK(x.dim() >= 2 && x.size(1) == channels, "ganzoo_psf: x.size(1) != alpha.numel()");
  int64_t inner = 1;
  for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  return {numel, channels, std::max<int64_t>(inner, 1)};
}

// t = exp(-alpha) per channel, in double (the kernels clamp it to their compute type's range).
std::vector<double> inverse_scale(const at::Tensor& alpha) {
  const at::Tensor a = alpha.contiguous();
  std::vector<double> t(a.numel());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, a.scalar_type(), "psf_alpha", [&] {
    const scalar_t* ap = a.const_data_ptr<scalar_t>();
    for (int64_t c = 0; c < a.numel(); ++c) t[c] = std::exp(-static_cast<double>(ap[c]));
  });
  return t;
}

// t in opmath_t, clamped to its largest finite value (so 0 * t is 0, never nan).
template <typename opmath_t>
std::vector<opmath_t> clamped(const std::vector<double>& t) {
  const double top = static_cast<double>(std::numeric_limits<opmath_t>::max());
  std::vector<opmath_t> out(t.size());
  for (size_t c = 0; c < t.size(); ++c) out[c] = static_cast<opmath_t>(std::min(t[c], top));
  return out;
}

// Calls f(begin, end, c) for each run of one channel inside block range [b0, b1).
template <typename F>
inline void for_segments(const Layout& L, int64_t b, const F& f) {
  const int64_t begin = b * kBlock, end = std::min(L.numel, begin + kBlock);
  for (int64_t i = begin; i < end;) {
    const int64_t row = i / L.inner;
    const int64_t stop = std::min(end, (row + 1) * L.inner);
    f(i, stop, row % L.channels);
    i = stop;
  }
}

template <typename scalar_t>
void forward_kernel(const at::Tensor& x, const std::vector<double>& t_, at::Tensor& y,
                    const Layout& L) {
  using opmath_t = at::opmath_type<scalar_t>;
  const std::vector<opmath_t> t = clamped<opmath_t>(t_);
  const scalar_t* __restrict__ xp = x.const_data_ptr<scalar_t>();
  scalar_t* __restrict__ yp = y.mutable_data_ptr<scalar_t>();
  const int64_t blocks = (L.numel + kBlock - 1) / kBlock;
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      for_segments(L, b, [&](int64_t i0, int64_t i1, int64_t c) {
        const opmath_t tc = t[c];
#pragma omp simd
        for (int64_t i = i0; i < i1; ++i) {
          const opmath_t v = static_cast<opmath_t>(xp[i]);
          const opmath_t xn = v < opmath_t(0) ? v : opmath_t(0);
          yp[i] = static_cast<scalar_t>(v / (opmath_t(1) - xn * tc));
        }
      });
    }
  });
}

template <typename scalar_t>
std::vector<double> backward_kernel(const at::Tensor& x, const std::vector<double>& t_,
                                    const at::Tensor& g, at::Tensor& gx, const Layout& L) {
  using opmath_t = at::opmath_type<scalar_t>;
  const std::vector<opmath_t> t = clamped<opmath_t>(t_);
  const opmath_t lowest = std::numeric_limits<opmath_t>::lowest();
  const scalar_t* __restrict__ xp = x.const_data_ptr<scalar_t>();
  const scalar_t* __restrict__ gp = g.const_data_ptr<scalar_t>();
  scalar_t* __restrict__ gxp = gx.mutable_data_ptr<scalar_t>();
  const int64_t blocks = (L.numel + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks) * L.channels, 0.0);
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double* acc = partial.data() + b * L.channels;
      for_segments(L, b, [&](int64_t i0, int64_t i1, int64_t c) {
        const opmath_t tc = t[c];
        // Two simple loops per short run (which the compiler vectorises, unlike one loop with
        // both stores and a reduction): the x gradient and each alpha term, then the terms
        // summed in double (float sums would drift).
        alignas(64) opmath_t terms[kRun];
        double sum = 0;
        for (int64_t j0 = i0; j0 < i1; j0 += kRun) {
          const int64_t n = std::min<int64_t>(kRun, i1 - j0);
          const scalar_t* __restrict__ xj = xp + j0;
          const scalar_t* __restrict__ gj = gp + j0;
          scalar_t* __restrict__ gxj = gxp + j0;
#pragma omp simd
          for (int64_t k = 0; k < n; ++k) {
            const opmath_t v = static_cast<opmath_t>(xj[k]);
            const opmath_t xn = v < opmath_t(0) ? v : opmath_t(0);
            const opmath_t p = xn * tc;
            const opmath_t u = p < lowest ? lowest : p;
            const opmath_t r = opmath_t(1) / (opmath_t(1) - u);
            const opmath_t gr = static_cast<opmath_t>(gj[k]) * r * r;
            gxj[k] = static_cast<scalar_t>(gr);
            terms[k] = gr * xn * u;
          }
          double run = 0;
#pragma omp simd reduction(+ : run)
          for (int64_t k = 0; k < n; ++k) run += static_cast<double>(terms[k]);
          sum += run;
        }
        acc[c] += sum;
      });
    }
  });
  std::vector<double> total(L.channels, 0.0);
  for (int64_t b = 0; b < blocks; ++b) {
    for (int64_t c = 0; c < L.channels; ++c) total[c] += partial[b * L.channels + c];
  }
  return total;
}

at::Tensor psf_forward(const at::Tensor& x_, const at::Tensor& alpha) {
  const Layout L = layout_of(x_, alpha);
  const at::Tensor x = x_.contiguous();
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  if (L.numel == 0) return y;
  const std::vector<double> t = inverse_scale(alpha);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "psf_forward",
                                  [&] { forward_kernel<scalar_t>(x, t, y, L); });
  return y;
}

std::tuple<at::Tensor, at::Tensor> psf_backward(const at::Tensor& x_, const at::Tensor& alpha,
                                                const at::Tensor& g_) {
  const Layout L = layout_of(x_, alpha);
  TORCH_CHECK(g_.sizes() == x_.sizes() && g_.scalar_type() == x_.scalar_type(),
              "ganzoo_psf: gradient and input differ in shape or dtype");
  const at::Tensor x = x_.contiguous();
  const at::Tensor g = g_.contiguous();
  at::Tensor gx = at::empty_like(x, at::MemoryFormat::Contiguous);
  std::vector<double> total(L.channels, 0.0);
  if (L.numel != 0) {
    const std::vector<double> t = inverse_scale(alpha);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "psf_backward",
                                    [&] { total = backward_kernel<scalar_t>(x, t, g, gx, L); });
  }
  at::Tensor galpha = at::empty({L.channels}, alpha.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, alpha.scalar_type(), "psf_galpha",
                                  [&] {
                                    scalar_t* out = galpha.mutable_data_ptr<scalar_t>();
                                    for (int64_t c = 0; c < L.channels; ++c) {
                                      out[c] = static_cast<scalar_t>(-total[c]);
                                    }
                                  });
  return {gx, galpha};
}

}  // namespace

TORCH_LIBRARY(ganzoo_psf, m) {
  m.def("forward(Tensor x, Tensor alpha) -> Tensor");
  m.def("backward(Tensor x, Tensor alpha, Tensor grad) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(ganzoo_psf, CPU, m) {
  m.impl("forward", &psf_forward);
  m.impl("backward", &psf_backward);
}

// The same kernels as the CPU implementation of the operators ganzoo_psf/_ops.py defines
// (ganzoo::psf_forward, ganzoo::psf_backward): once this library is loaded, eager CPU calls
// reach them without a Python hop.
TORCH_LIBRARY_IMPL(ganzoo, CPU, m) {
  m.impl("psf_forward", &psf_forward);
  m.impl("psf_backward", &psf_backward);
}
