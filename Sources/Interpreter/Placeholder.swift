import Lang
import Tensor
