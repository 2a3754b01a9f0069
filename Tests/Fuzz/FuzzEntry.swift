import Foundation

/// `wschat-fuzz DIR…`. Built with `-D FUZZING -sanitize=fuzzer` (Tests/fuzz.sh) it hands its
/// arguments to libFuzzer, which drives `ProtocolFuzzing.check` with inputs it mutates; built
/// normally, it replays the inputs kept in the directories (Tests/Fuzz/corpus: each once found
/// a problem or covers a rule).
@main
struct FuzzEntry {
    static func main() {
        #if FUZZING
            var argc = CInt(CommandLine.argc)
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
            var replayed = 0
            for directory in CommandLine.arguments.dropFirst() {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                for file in files.sorted() {
                    guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
                    ProtocolFuzzing.check(data)
                    replayed += 1
                }
            }
            print("replayed \(replayed) inputs")
        #endif
    }
}

#if FUZZING
    /// The function libFuzzer calls with each input.
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        ProtocolFuzzing.check(bytes.map { Data(bytes: $0, count: count) } ?? Data())
        return 0
    }

    /// libFuzzer's entry point for programs with a `main` of their own.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt
#endif
