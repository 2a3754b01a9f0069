import Foundation
import WSChatServer

/// A throwaway private certificate authority, made with openssl at run time, that issues
/// server certificates for whatever host name a test needs.
public struct TestCertificateAuthority: Sendable {
    /// The CA's certificate (PEM): what a client is told to trust with `--ca-file`.
    public let certificateFile: String
    private let keyFile: String
    private let directory: URL

    public static func make() throws -> TestCertificateAuthority {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ca = TestCertificateAuthority(
            certificateFile: directory.appendingPathComponent("ca.pem").path,
            keyFile: directory.appendingPathComponent("ca.key").path, directory: directory)
        try openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=wschat test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", ca.keyFile, "-out", ca.certificateFile)
        return ca
    }

    /// A server certificate for `hostName`, signed by this CA, and its key.
    public func issue(for hostName: String) throws -> TLSFiles {
        let stem = directory.appendingPathComponent("\(hostName)-\(UUID().uuidString)").path
        let files = TLSFiles(certificateChain: stem + ".pem", privateKey: stem + ".key")
        let extensions = stem + ".ext"
        try "subjectAltName=DNS:\(hostName)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        try Self.openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(hostName)", "-keyout", files.privateKey,
            "-out", stem + ".csr")
        try Self.openssl(
            "x509", "-req", "-in", stem + ".csr", "-CA", certificateFile, "-CAkey", keyFile, "-CAcreateserial",
            "-days", "1", "-extfile", extensions, "-out", files.certificateChain)
        return files
    }

    private static func openssl(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed")
        }
    }
}
