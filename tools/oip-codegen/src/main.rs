//! Regenerate the gRPC code of the Open Inference Protocol without `protoc`: `protox` parses
//! the vendored `.proto` files, `tonic-prost-build` writes the messages and the server.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/server");
    let fds = protox::compile([root.join("proto/grpc_service.proto")], [root.join("proto")])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(root.join("src/oip/grpc"))
        .compile_fds(fds)?;
    println!("wrote {}", root.join("src/oip/grpc/inference.rs").display());
    Ok(())
}
