// Fused optimizer updates: optim_<algorithm>_<dtype>, one pass over parameter, gradient and slots, in place.
// Each kernel performs exactly the operations of its dev.nabla.backend.OptimizerStep record's scalar definition, in
// the same order, each rounded to T with the _rn intrinsics so nvcc cannot contract them into fused multiply-adds:
// float32 results are then bit-identical to the CPU backend's. Hyperparameters arrive as doubles and are rounded to
// T where the definition rounds them.
#include "common.cuh"

template <class T> struct Rn;
template <> struct Rn<float> {
    static __device__ __forceinline__ float add(float a, float b) { return __fadd_rn(a, b); }
    static __device__ __forceinline__ float sub(float a, float b) { return __fsub_rn(a, b); }
    static __device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }
    static __device__ __forceinline__ float div(float a, float b) { return __fdiv_rn(a, b); }
    static __device__ __forceinline__ float sqrt(float a) { return __fsqrt_rn(a); }
};
template <> struct Rn<double> {
    static __device__ __forceinline__ double add(double a, double b) { return __dadd_rn(a, b); }
    static __device__ __forceinline__ double sub(double a, double b) { return __dsub_rn(a, b); }
    static __device__ __forceinline__ double mul(double a, double b) { return __dmul_rn(a, b); }
    static __device__ __forceinline__ double div(double a, double b) { return __ddiv_rn(a, b); }
    static __device__ __forceinline__ double sqrt(double a) { return __dsqrt_rn(a); }
};

// Keras' variable - variable * weight_decay * lr, skipped without decay.
template <class T>
__device__ __forceinline__ T decay(T p, T wd, T lr, bool decays) {
    typedef Rn<T> R;
    return decays ? R::sub(p, R::mul(R::mul(p, wd), lr)) : p;
}

template <class T>
__device__ __forceinline__ void sgd(T* p, const T* g, T* m, i64 n, double lr_, double mu_, int nesterov, double wd_) {
    typedef Rn<T> R;
    T lr = (T)lr_, mu = (T)mu_, wd = (T)wd_;
    GRID_STRIDE_LOOP(i, n) {
        T v = decay(p[i], wd, lr, wd_ != 0.0);
        if (mu_ == 0.0) {
            p[i] = R::sub(v, R::mul(g[i], lr));
        } else {
            T step = R::mul(-g[i], lr);
            T mi = R::add(step, R::mul(m[i], mu));
            m[i] = mi;
            p[i] = nesterov ? R::add(v, R::add(step, R::mul(mi, mu))) : R::add(v, mi);
        }
    }
}

template <class T>
__device__ __forceinline__ void adam(T* p, const T* g, T* m, T* u, T* uhat, i64 n, double lr_, double alpha_,
                                     double keep1_, double keep2_, double eps_, int amsgrad, double wd_) {
    typedef Rn<T> R;
    T lr = (T)lr_, alpha = (T)alpha_, keep1 = (T)keep1_, keep2 = (T)keep2_, eps = (T)eps_, wd = (T)wd_;
    GRID_STRIDE_LOOP(i, n) {
        T v = decay(p[i], wd, lr, wd_ != 0.0);
        T gi = g[i];
        T mi = R::add(m[i], R::mul(R::sub(gi, m[i]), keep1));
        T ui = R::add(u[i], R::mul(R::sub(R::mul(gi, gi), u[i]), keep2));
        m[i] = mi;
        u[i] = ui;
        if (amsgrad) {
            ui = uhat[i] > ui ? uhat[i] : ui;
            uhat[i] = ui;
        }
        T denominator = R::add(R::sqrt(ui), eps);
        p[i] = R::sub(v, R::div(R::mul(mi, alpha), denominator));
    }
}

template <class T>
__device__ __forceinline__ void rmsprop(T* p, const T* g, T* ms, T* mom, T* mean, i64 n, double lr_, double rho_,
                                        double keep_, double mu_, double eps_, int centered, double wd_) {
    typedef Rn<T> R;
    T lr = (T)lr_, rho = (T)rho_, keep = (T)keep_, mu = (T)mu_, eps = (T)eps_, wd = (T)wd_;
    GRID_STRIDE_LOOP(i, n) {
        T v = decay(p[i], wd, lr, wd_ != 0.0);
        T gi = g[i];
        T s = R::add(R::mul(rho, ms[i]), R::mul(keep, R::mul(gi, gi)));
        ms[i] = s;
        T denominator;
        if (centered) {
            T a = R::add(R::mul(rho, mean[i]), R::mul(keep, gi));
            mean[i] = a;
            denominator = R::add(R::sub(s, R::mul(a, a)), eps);
        } else {
            denominator = R::add(s, eps);
        }
        T increment = R::div(R::mul(lr, gi), R::sqrt(denominator));
        if (mu_ > 0.0) {
            T mi = R::add(R::mul(mu, mom[i]), increment);
            mom[i] = mi;
            p[i] = R::sub(v, mi);
        } else {
            p[i] = R::sub(v, increment);
        }
    }
}

template <class T>
__device__ __forceinline__ void adagrad(T* p, const T* g, T* acc, i64 n, double lr_, double eps_, double wd_) {
    typedef Rn<T> R;
    T lr = (T)lr_, eps = (T)eps_, wd = (T)wd_;
    GRID_STRIDE_LOOP(i, n) {
        T v = decay(p[i], wd, lr, wd_ != 0.0);
        T gi = g[i];
        T a = R::add(acc[i], R::mul(gi, gi));
        acc[i] = a;
        T rate = R::mul(lr, gi);
        p[i] = R::sub(v, R::div(rate, R::sqrt(R::add(a, eps))));
    }
}

#define NABLA_OPTIM(T, dtype)                                                                                   \
    extern "C" __global__ void optim_sgd_##dtype(T* p, const T* g, T* m, i64 n, double lr, double mu,          \
                                                 int nesterov, double wd) {                                     \
        sgd<T>(p, g, m, n, lr, mu, nesterov, wd);                                                               \
    }                                                                                                           \
    extern "C" __global__ void optim_adam_##dtype(T* p, const T* g, T* m, T* u, T* uhat, i64 n, double lr,      \
                                                  double alpha, double keep1, double keep2, double eps,         \
                                                  int amsgrad, double wd) {                                     \
        adam<T>(p, g, m, u, uhat, n, lr, alpha, keep1, keep2, eps, amsgrad, wd);                                \
    }                                                                                                           \
    extern "C" __global__ void optim_rmsprop_##dtype(T* p, const T* g, T* ms, T* mom, T* mean, i64 n,           \
                                                     double lr, double rho, double keep, double mu, double eps, \
                                                     int centered, double wd) {                                 \
        rmsprop<T>(p, g, ms, mom, mean, n, lr, rho, keep, mu, eps, centered, wd);                               \
    }                                                                                                           \
    extern "C" __global__ void optim_adagrad_##dtype(T* p, const T* g, T* acc, i64 n, double lr, double eps,    \
                                                     double wd) {                                               \
        adagrad<T>(p, g, acc, n, lr, eps, wd);                                                                  \
    }

NABLA_OPTIM(float, float32)
NABLA_OPTIM(double, float64)
