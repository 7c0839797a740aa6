// swift-tools-version:6.2
// Builds protoc-gen-swift from the swift-protobuf version the project pins (Package.swift at the
// top), so that `make proto` generates exactly the code that runtime expects.
import PackageDescription

let package = Package(
    name: "protoc-gen-swift-pinned",
    dependencies: [.package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0")]
)
