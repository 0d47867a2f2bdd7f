// .npz reading and writing: the zip container (zip.h) around .npy members (npy.h), and the
// rule for array names, which is the same for writing and reading so that whatever graft
// loads it can save again.
#include "graft/io/npz.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "graft/io/file_io.h"
#include "graft/io/npy.h"
#include "graft/io/zip.h"

namespace graft {
namespace {

using io::FileContext;

constexpr std::string_view kSuffix = ".npy";
constexpr size_t kMaxNameBytes = 0xFFFF - kSuffix.size();

void check_name(const FileContext& context, const std::string& name) {
  context.check(!name.empty(), "an array name is empty");
  context.check(name.size() <= kMaxNameBytes, "an array name is ", name.size(),
                " bytes long; a zip archive allows ", kMaxNameBytes, " (with \".npy\")");
  const size_t nul = name.find('\0');
  context.check(nul == std::string::npos, "the array name \"", name.substr(0, nul),
                "\\0...\" holds a NUL byte");
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(name.find('/', begin), name.size());
    const std::string_view part = std::string_view(name).substr(begin, end - begin);
    context.check(!part.empty() && part != "." && part != "..", "the array name \"", name,
                  "\" is not a path that stays inside a folder: its '/'-separated parts must "
                  "not be empty, \".\" or \"..\"");
    if (end == name.size()) return;
    begin = end + 1;
  }
}

void save(const NamedTensors& arrays, const std::filesystem::path& path, const char* op,
          bool deflate) {
  const FileContext context{op, path};
  std::set<std::string> names;
  for (const auto& [name, tensor] : arrays) {
    check_name(context, name);
    context.check(names.insert(name).second, "the array name \"", name, "\" appears twice");
    context.check(tensor.defined(), "the array \"", name, "\" is undefined");
  }
  io::ZipWriter zip(context, deflate);
  for (const auto& [name, tensor] : arrays) {
    const Tensor host = io::host_contiguous(tensor);
    const std::string header = io::npy_header(host);
    zip.add(name + std::string(kSuffix), {{header.data(), header.size()},
                                          {host.data_ptr(), static_cast<size_t>(host.nbytes())}});
  }
  zip.commit();
}

}  // namespace

void save_npz(const NamedTensors& arrays, const std::filesystem::path& path) {
  save(arrays, path, "save_npz()", false);
}

void save_npz_compressed(const NamedTensors& arrays, const std::filesystem::path& path) {
  save(arrays, path, "save_npz_compressed()", true);
}

NamedTensors load_npz(const std::filesystem::path& path) {
  const io::FileReader file({"load_npz()", path});
  NamedTensors arrays;
  for (const io::ZipMember& member : io::read_zip_members(file)) {
    const FileContext context = io::member_context(file.context(), member.name);
    context.check(member.name.ends_with(kSuffix),
                  "not a .npy file: graft reads .npz archives of .npy members only");
    const std::string name = member.name.substr(0, member.name.size() - kSuffix.size());
    check_name(context, name);
    io::ZipMemberSource source(file, member);
    Tensor array = io::read_npy(source);
    source.finish();
    arrays.emplace_back(name, std::move(array));
  }
  return arrays;
}

}  // namespace graft
