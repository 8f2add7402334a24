// jni_bridge.cpp — what dev.flora.engine.cuda.EmulatedKernels calls: launch a kernel by name with
// 64-bit packed arguments, and list the kernels. C++ exceptions become Java exceptions.
#include <jni.h>

#include <exception>
#include <string>
#include <vector>

#include "registry.h"

namespace {
void throwJava(JNIEnv* env, const char* cls, const std::string& msg) {
    jclass c = env->FindClass(cls);
    if (c != nullptr) {
        env->ThrowNew(c, msg.c_str());
    }
}
}  // namespace

extern "C" JNIEXPORT void JNICALL Java_dev_flora_engine_cuda_EmulatedKernels_launch(
    JNIEnv* env, jclass, jstring jname, jint gx, jint gy, jint gz, jint bx, jint by, jint bz, jint shared,
    jlongArray jargs) {
    const char* chars = env->GetStringUTFChars(jname, nullptr);
    std::string name(chars);
    env->ReleaseStringUTFChars(jname, chars);
    emu::Launcher launcher = emu::findKernel(name);
    if (launcher == nullptr) {
        throwJava(env, "java/lang/IllegalArgumentException", "no kernel named " + name);
        return;
    }
    jsize n = env->GetArrayLength(jargs);
    std::vector<uint64_t> args(static_cast<size_t>(n));
    env->GetLongArrayRegion(jargs, 0, n, reinterpret_cast<jlong*>(args.data()));
    try {
        launcher(dim3(gx, gy, gz), dim3(bx, by, bz), static_cast<size_t>(shared), args.data(), n);
    } catch (const std::exception& e) {
        throwJava(env, "java/lang/IllegalStateException", name + ": " + e.what());
    }
}

extern "C" JNIEXPORT jobjectArray JNICALL Java_dev_flora_engine_cuda_EmulatedKernels_names(JNIEnv* env, jclass) {
    std::vector<std::string> names = emu::kernelNames();
    jobjectArray out = env->NewObjectArray(static_cast<jsize>(names.size()), env->FindClass("java/lang/String"),
                                           nullptr);
    for (size_t i = 0; i < names.size(); i++) {
        env->SetObjectArrayElement(out, static_cast<jsize>(i), env->NewStringUTF(names[i].c_str()));
    }
    return out;
}
