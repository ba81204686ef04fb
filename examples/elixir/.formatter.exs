[
  inputs: ["{mix,.formatter,run}.exs", "{lib,test}/**/*.{ex,exs}"]
]
